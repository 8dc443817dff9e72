/**
 * EMVCo merchant-presented QR (EMV QRCPS MPM v1.1) codec: build, parse and render payloads.
 * Pure functions apart from the PNG renderer; no I/O, no clock, no database.
 */
import QRCode from 'qrcode';
import { CURRENCIES, currencyByNumeric } from '../../platform/money.ts';

/** Raised for any invalid input or payload; `field` names the offending field so callers can map it to a 422. */
export class EmvcoError extends Error {
  readonly field: string;

  constructor(field: string, message: string) {
    super(message);
    this.name = 'EmvcoError';
    this.field = field;
  }
}

export type QrMode = 'static' | 'dynamic';

/** Tag 62 sub-fields. Values of "***" mean "ask the payer" in the spec, so they are passed through as-is. */
export interface AdditionalData {
  billNumber?: string; // 01
  mobileNumber?: string; // 02
  storeLabel?: string; // 03
  loyaltyNumber?: string; // 04
  referenceLabel?: string; // 05
  customerLabel?: string; // 06
  terminalLabel?: string; // 07
  purpose?: string; // 08
}

export interface MerchantQrInput {
  mode: QrMode;
  /** Written as merchant account template 26: sub 00 = globally unique id, sub 01 = merchant id. */
  merchantAccount: { globallyUniqueId: string; merchantId: string };
  mcc: string;
  currencyNumeric: string;
  /** Decimal text such as "150.00" (see formatQrAmount); normally only on dynamic codes. */
  amount?: string;
  countryCode: string;
  merchantName: string;
  merchantCity: string;
  postalCode?: string;
  additional?: AdditionalData;
}

export interface ParsedMerchantQr {
  /** Absent when the payload omits tag 01, which the spec allows. */
  mode?: QrMode;
  payloadFormat: string;
  /** Templates 26–51 by tag, each split into its sub-tags. Scheme tags 02–25 are primitives: see `raw`. */
  merchantAccounts: Record<string, Record<string, string>>;
  mcc: string;
  currencyNumeric: string;
  amount?: string;
  countryCode: string;
  merchantName: string;
  merchantCity: string;
  postalCode?: string;
  additional: AdditionalData;
  /** Every top-level tag with its value, including ones this codec does not interpret (55–57, 64, 80–99…). */
  raw: Record<string, string>;
}

/**
 * Tag 53 of an ISO 4217 alphabetic code ("KES" → "404"), from the platform's one currency table. A code the table
 * does not hold is refused (field `currency`).
 */
export function currencyNumericOf(alpha: string): string {
  const info = CURRENCIES.get(alpha);
  if (!info) throw new EmvcoError('currency', `Currency ${alpha} has no ISO 4217 numeric code here`);
  return info.numeric;
}

/** The ISO 4217 alphabetic code of a tag-53 value ("404" → "KES"), or undefined for a code the table does not hold. */
export function currencyAlphaOf(numeric: string): string | undefined {
  return currencyByNumeric(numeric)?.code;
}

const MAX_PAYLOAD = 512;
const MAX_AMOUNT = 13;
const MAX_EXPONENT = 4; // ISO 4217 minor units never exceed 4 (CLF, UYW)
// "ans" in the spec: printable ASCII only, so character counts equal byte counts for the CRC.
const ANS = /^[ -~]+$/;
const TWO_DIGITS = /^\d{2}$/;
const AMOUNT = /^\d+(\.\d+)?$/;
const MCC = /^\d{4}$/;
const CURRENCY = /^\d{3}$/;
const COUNTRY = /^[A-Z]{2}$/;

const ADDITIONAL_TAGS: ReadonlyArray<readonly [keyof AdditionalData, string]> = [
  ['billNumber', '01'],
  ['mobileNumber', '02'],
  ['storeLabel', '03'],
  ['loyaltyNumber', '04'],
  ['referenceLabel', '05'],
  ['customerLabel', '06'],
  ['terminalLabel', '07'],
  ['purpose', '08'],
];

/** CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, xorout 0) as 4 uppercase hex digits. */
export function crc16CcittFalse(text: string): string {
  let crc = 0xffff;
  for (const byte of Buffer.from(text, 'utf8')) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
  }
  return crc.toString(16).toUpperCase().padStart(4, '0');
}

// ---------------------------------------------------------------------------------------------------------
// Amounts

function checkExponent(exponent: number): void {
  if (!Number.isInteger(exponent) || exponent < 0 || exponent > MAX_EXPONENT) {
    throw new EmvcoError('exponent', `Currency exponent must be an integer from 0 to ${MAX_EXPONENT}`);
  }
}

/** Minor units → tag 54 text: 15000n with exponent 2 → "150.00". */
export function formatQrAmount(minor: bigint, exponent: number): string {
  checkExponent(exponent);
  if (minor < 0n) throw new EmvcoError('amount', 'Amount must not be negative');
  const digits = minor.toString().padStart(exponent + 1, '0');
  const whole = digits.slice(0, digits.length - exponent);
  const text = exponent === 0 ? whole : `${whole}.${digits.slice(-exponent)}`;
  if (text.length > MAX_AMOUNT)
    throw new EmvcoError('amount', `Amount must be at most ${MAX_AMOUNT} characters`);
  return text;
}

/** Tag 54 text → minor units. Strict, because a lenient amount parser is how a payer gets overcharged. */
export function parseQrAmount(text: string, exponent: number): bigint {
  checkExponent(exponent);
  checkAmountText(text);
  const [whole = '', fraction = ''] = text.split('.');
  if (fraction.length > exponent) {
    throw new EmvcoError('amount', `Amount has more than ${exponent} decimal places`);
  }
  return BigInt(whole + fraction.padEnd(exponent, '0'));
}

function checkAmountText(text: string): string {
  if (text.length === 0 || text.length > MAX_AMOUNT) {
    throw new EmvcoError('amount', `Amount must be 1-${MAX_AMOUNT} characters`);
  }
  if (!AMOUNT.test(text)) {
    throw new EmvcoError('amount', 'Amount must be digits with an optional "." decimal point');
  }
  return text;
}

// ---------------------------------------------------------------------------------------------------------
// Encoding

function tlv(tag: string, value: string, field: string): string {
  if (value.length > 99) throw new EmvcoError(field, `${field} is longer than 99 characters`);
  return `${tag}${String(value.length).padStart(2, '0')}${value}`;
}

function checkText(field: string, value: unknown, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new EmvcoError(field, `${field} must be 1-${max} characters`);
  }
  if (!ANS.test(value)) throw new EmvcoError(field, `${field} must be printable ASCII`);
  return value;
}

function checkPattern(field: string, value: unknown, pattern: RegExp, what: string): string {
  if (typeof value !== 'string' || !pattern.test(value))
    throw new EmvcoError(field, `${field} must be ${what}`);
  return value;
}

function optional(tag: string, value: string | undefined, encode: (v: string) => string): string {
  return value === undefined ? '' : tlv(tag, encode(value), tag);
}

function encodeMerchantAccount(account: MerchantQrInput['merchantAccount']): string {
  const guid = checkText('merchantAccount.globallyUniqueId', account?.globallyUniqueId, 32);
  const id = checkText('merchantAccount.merchantId', account?.merchantId, 95);
  return tlv('26', tlv('00', guid, 'guid') + tlv('01', id, 'id'), 'merchantAccount');
}

function encodeAdditional(additional: AdditionalData | undefined): string {
  if (!additional) return '';
  const body = ADDITIONAL_TAGS.map(([key, tag]) => {
    const value = additional[key];
    return value === undefined ? '' : tlv(tag, checkText(`additional.${key}`, value, 25), key);
  }).join('');
  return body ? tlv('62', body, 'additional') : '';
}

function encodeMode(mode: unknown): string {
  if (mode !== 'static' && mode !== 'dynamic') throw new EmvcoError('mode', 'mode must be static or dynamic');
  return mode === 'static' ? '11' : '12';
}

/** Builds the payload in spec order and appends tag 63, whose CRC covers everything up to and including "6304". */
export function encodeMerchantQr(input: MerchantQrInput): string {
  const body = [
    tlv('00', '01', 'payloadFormat'),
    tlv('01', encodeMode(input.mode), 'mode'),
    encodeMerchantAccount(input.merchantAccount),
    tlv('52', checkPattern('mcc', input.mcc, MCC, 'four digits'), 'mcc'),
    tlv('53', checkPattern('currencyNumeric', input.currencyNumeric, CURRENCY, 'three digits'), 'currency'),
    optional('54', input.amount, checkAmountText),
    tlv('58', checkPattern('countryCode', input.countryCode, COUNTRY, 'two capital letters'), 'country'),
    tlv('59', checkText('merchantName', input.merchantName, 25), 'merchantName'),
    tlv('60', checkText('merchantCity', input.merchantCity, 15), 'merchantCity'),
    optional('61', input.postalCode, (v) => checkText('postalCode', v, 10)),
    encodeAdditional(input.additional),
  ].join('');
  const unsigned = `${body}6304`;
  const payload = unsigned + crc16CcittFalse(unsigned);
  if (payload.length > MAX_PAYLOAD) {
    throw new EmvcoError('payload', `Payload is ${payload.length} characters; the limit is ${MAX_PAYLOAD}`);
  }
  return payload;
}

// ---------------------------------------------------------------------------------------------------------
// Parsing

/** Splits ID(2) LEN(2) VALUE objects; every structural fault names its offset to ease debugging scans. */
function parseTlv(text: string, field: string): Array<[string, string]> {
  const objects: Array<[string, string]> = [];
  let pos = 0;
  while (pos < text.length) {
    if (pos + 4 > text.length) throw new EmvcoError(field, `Truncated TLV header at offset ${pos}`);
    const id = text.slice(pos, pos + 2);
    const len = text.slice(pos + 2, pos + 4);
    if (!TWO_DIGITS.test(id)) throw new EmvcoError(field, `ID "${id}" at offset ${pos} is not two digits`);
    if (!TWO_DIGITS.test(len)) throw new EmvcoError(field, `Length "${len}" of ID ${id} is not two digits`);
    const size = Number(len);
    if (size === 0) throw new EmvcoError(field, `ID ${id} has a zero length`);
    if (pos + 4 + size > text.length) {
      throw new EmvcoError(field, `ID ${id} declares length ${size}; ${text.length - pos - 4} remain`);
    }
    objects.push([id, text.slice(pos + 4, pos + 4 + size)]);
    pos += 4 + size;
  }
  return objects;
}

/** A repeated ID is ambiguous (which one is the amount?), so it is refused rather than last-wins. */
function toRecord(objects: Array<[string, string]>, field: string): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [id, value] of objects) {
    if (id in record) throw new EmvcoError(field, `ID ${id} appears more than once`);
    record[id] = value;
  }
  return record;
}

function checkFrame(payload: string, objects: Array<[string, string]>): void {
  const first = objects[0];
  const last = objects.at(-1);
  if (first?.[0] !== '00') throw new EmvcoError('payloadFormat', 'Payload must start with ID 00');
  if (first[1] !== '01') throw new EmvcoError('payloadFormat', `Unsupported payload format "${first[1]}"`);
  if (last?.[0] !== '63') throw new EmvcoError('crc', 'Payload must end with the CRC (ID 63)');
  if (last[1].length !== 4) throw new EmvcoError('crc', 'CRC (ID 63) must have length 04');
  const expected = crc16CcittFalse(payload.slice(0, -4));
  if (last[1].toUpperCase() !== expected) {
    throw new EmvcoError('crc', `CRC mismatch: payload says ${last[1]}, computed ${expected}`);
  }
}

function required(raw: Record<string, string>, tag: string, field: string): string {
  const value = raw[tag];
  if (value === undefined) throw new EmvcoError(field, `Mandatory ID ${tag} (${field}) is missing`);
  return value;
}

function requiredCode(
  raw: Record<string, string>,
  tag: string,
  field: string,
  pattern: RegExp,
  what: string,
): string {
  return checkPattern(field, required(raw, tag, field), pattern, what);
}

function parseMode(value: string | undefined): QrMode | undefined {
  if (value === undefined) return undefined;
  if (value === '11') return 'static';
  if (value === '12') return 'dynamic';
  throw new EmvcoError('mode', `Point of initiation (ID 01) must be 11 or 12, got "${value}"`);
}

function parseMerchantAccounts(raw: Record<string, string>): Record<string, Record<string, string>> {
  const accounts: Record<string, Record<string, string>> = {};
  for (const [tag, value] of Object.entries(raw)) {
    const id = Number(tag);
    if (id < 26 || id > 51) continue;
    const field = `merchantAccount.${tag}`;
    accounts[tag] = toRecord(parseTlv(value, field), field);
  }
  const schemeTags = Object.keys(raw).filter((tag) => Number(tag) >= 2 && Number(tag) <= 25);
  if (Object.keys(accounts).length === 0 && schemeTags.length === 0) {
    throw new EmvcoError('merchantAccount', 'At least one merchant account (IDs 02-51) is required');
  }
  return accounts;
}

function parseAdditional(value: string | undefined): AdditionalData {
  if (value === undefined) return {};
  const subs = toRecord(parseTlv(value, 'additional'), 'additional');
  const additional: AdditionalData = {};
  for (const [key, tag] of ADDITIONAL_TAGS) {
    const sub = subs[tag];
    if (sub !== undefined) additional[key] = sub;
  }
  return additional;
}

function checkParsedLength(field: string, value: string, max: number): string {
  if (value.length > max) throw new EmvcoError(field, `${field} is longer than ${max} characters`);
  return value;
}

/** Verifies structure and CRC, then returns the interpreted fields; throws EmvcoError on any fault. */
export function parseMerchantQr(payload: string): ParsedMerchantQr {
  if (payload.length > MAX_PAYLOAD) {
    throw new EmvcoError('payload', `Payload is ${payload.length} characters; the limit is ${MAX_PAYLOAD}`);
  }
  const objects = parseTlv(payload, 'payload');
  checkFrame(payload, objects);
  const raw = toRecord(objects, 'payload');
  const amount = raw['54'] === undefined ? undefined : checkAmountText(raw['54']);
  const postalCode = raw['61'] === undefined ? undefined : checkParsedLength('postalCode', raw['61'], 10);
  const mode = parseMode(raw['01']);
  return {
    ...(mode === undefined ? {} : { mode }),
    payloadFormat: raw['00']!,
    merchantAccounts: parseMerchantAccounts(raw),
    mcc: requiredCode(raw, '52', 'mcc', MCC, 'four digits'),
    currencyNumeric: requiredCode(raw, '53', 'currencyNumeric', CURRENCY, 'three digits'),
    ...(amount === undefined ? {} : { amount }),
    countryCode: requiredCode(raw, '58', 'countryCode', COUNTRY, 'two capital letters'),
    merchantName: checkParsedLength('merchantName', required(raw, '59', 'merchantName'), 25),
    merchantCity: checkParsedLength('merchantCity', required(raw, '60', 'merchantCity'), 15),
    ...(postalCode === undefined ? {} : { postalCode }),
    additional: parseAdditional(raw['62']),
    raw,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Rendering

/** PNG of the payload. It is parsed first so that a bad payload fails here, not at the payer's scanner. */
export async function merchantQrPng(payload: string): Promise<Buffer> {
  parseMerchantQr(payload);
  return QRCode.toBuffer(payload, { type: 'png', errorCorrectionLevel: 'M', margin: 2, width: 320 });
}
