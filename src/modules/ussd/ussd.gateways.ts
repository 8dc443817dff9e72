/**
 * The gateway adapters: each turns its gateway's wire format into a `UssdRequest` and renders the engine's
 * `UssdReply` back (INTEGRATIONS.md §2). Pure functions: a body that is not the wire format is a 400
 * USSD_GATEWAY_REQUEST_INVALID naming the field, never a 500.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { invalidGatewayRequest } from './ussd.errors.ts';
import type { GatewayName, UssdReply, UssdRequest } from './ussd.gateway.types.ts';
import { DEFAULT_SESSION_TTL_SECONDS } from './ussd.gateways.config.ts';

/**
 * A parsed request with what the reply must echo back that `UssdRequest` does not carry (Arkesel's and Nalo's
 * `userID`/`USERID`, their msisdn as the gateway spelled it, Hubtel's `ClientState`).
 */
export interface GatewayRequest extends UssdRequest {
  readonly echo?: Readonly<Record<string, string>>;
}

export interface RenderedReply {
  readonly contentType: string;
  readonly body: string;
}

export interface GatewayAdapter {
  readonly gateway: GatewayName;
  /** The body's content type the gateway posts (documented; the route accepts JSON and forms for every one). */
  readonly requestContentType: 'application/x-www-form-urlencoded' | 'application/json';
  /** The gateway's own session limit, overridable by USSD_<GATEWAY>_SESSION_TTL_SECONDS. */
  readonly sessionTtlSeconds: number;
  parse(body: unknown): GatewayRequest;
  render(request: GatewayRequest, reply: UssdReply): RenderedReply;
}

/** Ids and codes are short; a longer value is not the gateway's (and would bloat session keys and logs). */
const MAX_ID = 200;
/** AT's `text` holds the whole path of a session; the other gateways send one input. */
const MAX_PATH = 2000;
const MAX_INPUT = 500;

type Fields = Record<string, unknown>;

/** C0 controls other than tab and line breaks: never typed on a handset, and a risk in logs and screens. */
function hasControlCharacters(text: string): boolean {
  for (let index = 0; index < text.length; index += 1) {
    const code = text.charCodeAt(index);
    if (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) return true;
  }
  return false;
}

function fieldsOf(gateway: GatewayName, body: unknown): Fields {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw invalidGatewayRequest(gateway, 'body', 'is not an object');
  return body as Fields;
}

/** A text field (a number is taken as its decimal text: some gateways send ids and phones as JSON numbers). */
function optionalText(gateway: GatewayName, fields: Fields, name: string, max = MAX_ID): string | null {
  const value = fields[name];
  if (value === undefined || value === null) return null;
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' && Number.isSafeInteger(value)) text = String(value);
  else throw invalidGatewayRequest(gateway, name, 'is not text');
  if (text.length > max) throw invalidGatewayRequest(gateway, name, `is longer than ${max} characters`);
  if (hasControlCharacters(text)) throw invalidGatewayRequest(gateway, name, 'holds control characters');
  return text;
}

function requiredText(gateway: GatewayName, fields: Fields, name: string, max = MAX_ID): string {
  const text = optionalText(gateway, fields, name, max);
  if (text === null || text.trim() === '') throw invalidGatewayRequest(gateway, name, 'is missing');
  return text;
}

function flag(gateway: GatewayName, fields: Fields, name: string): boolean {
  const value = fields[name];
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw invalidGatewayRequest(gateway, name, value === undefined ? 'is missing' : 'is not true or false');
}

/** The msisdn in E.164; gateways send `+2547…`, `2547…` or `002547…`. */
export function toE164(gateway: GatewayName, name: string, raw: string): string {
  let value = raw.replace(/[\s().-]/g, '');
  if (value.startsWith('00')) value = `+${value.slice(2)}`;
  else if (!value.startsWith('+')) value = `+${value}`;
  const parsed = /^\+\d{6,15}$/.test(value) ? parsePhoneNumberFromString(value) : undefined;
  if (!parsed?.isValid()) throw invalidGatewayRequest(gateway, name, 'is not a phone number');
  return parsed.number;
}

const withoutPlus = (msisdn: string) => msisdn.replace(/^\+/, '');

const json = (body: unknown): RenderedReply => ({
  contentType: 'application/json; charset=utf-8',
  body: JSON.stringify(body),
});

/** Africa's Talking: a form; `text` is every input so far joined by `*` (empty on the first hit). */
export const africasTalking: GatewayAdapter = {
  gateway: 'at',
  requestContentType: 'application/x-www-form-urlencoded',
  sessionTtlSeconds: DEFAULT_SESSION_TTL_SECONDS.at,
  parse(body) {
    const fields = fieldsOf('at', body);
    // Kept exactly as sent: an input may itself hold `*`, which only the engine (knowing the path) can split.
    const text = optionalText('at', fields, 'text', MAX_PATH) ?? '';
    return {
      gateway: 'at',
      sessionId: requiredText('at', fields, 'sessionId'),
      msisdn: toE164('at', 'phoneNumber', requiredText('at', fields, 'phoneNumber')),
      serviceCode: optionalText('at', fields, 'serviceCode') || null,
      network: optionalText('at', fields, 'networkCode') || null,
      isNew: text === '',
      input: { path: text },
      sequence: null,
      closed: false,
    };
  },
  render(_request, reply) {
    return {
      contentType: 'text/plain; charset=utf-8',
      body: `${reply.continue ? 'CON' : 'END'} ${reply.message}`,
    };
  },
};

const HUBTEL_TYPES = ['initiation', 'response', 'release', 'timeout'] as const;

/** Hubtel Programmable Services: JSON with the latest input only and the step number (`Sequence`). */
export const hubtel: GatewayAdapter = {
  gateway: 'hubtel',
  requestContentType: 'application/json',
  sessionTtlSeconds: DEFAULT_SESSION_TTL_SECONDS.hubtel,
  parse(body) {
    const fields = fieldsOf('hubtel', body);
    const type = requiredText('hubtel', fields, 'Type').toLowerCase();
    if (!(HUBTEL_TYPES as readonly string[]).includes(type))
      throw invalidGatewayRequest('hubtel', 'Type', 'is not Initiation, Response, Release or Timeout');
    const sequence = fields.Sequence;
    const step =
      typeof sequence === 'number' ? sequence : typeof sequence === 'string' ? Number(sequence) : Number.NaN;
    if (!Number.isSafeInteger(step) || step < 0)
      throw invalidGatewayRequest('hubtel', 'Sequence', 'is not a step number');
    const message = optionalText('hubtel', fields, 'Message', MAX_INPUT) ?? '';
    const clientState = optionalText('hubtel', fields, 'ClientState', MAX_INPUT);
    return {
      gateway: 'hubtel',
      sessionId: requiredText('hubtel', fields, 'SessionId'),
      msisdn: toE164('hubtel', 'Mobile', requiredText('hubtel', fields, 'Mobile')),
      serviceCode: optionalText('hubtel', fields, 'ServiceCode') || null,
      network: optionalText('hubtel', fields, 'Operator') || null,
      isNew: type === 'initiation',
      // On initiation Message is the string dialled (`*713*2#`), not an answer to a screen.
      input: { latest: type === 'initiation' ? '' : message },
      sequence: step,
      closed: type === 'release' || type === 'timeout',
      ...(clientState ? { echo: { ClientState: clientState } } : {}),
    };
  },
  render(request, reply) {
    return json({
      SessionId: request.sessionId,
      Type: reply.continue ? 'response' : 'release',
      Message: reply.message,
      Label: reply.message.split('\n', 1)[0]!.slice(0, 60),
      DataType: reply.continue ? 'input' : 'display',
      FieldType: 'text',
      ClientState: request.echo?.ClientState ?? '',
    });
  },
};

/**
 * What Arkesel and Nalo send alike: the latest input only (a new session's is the string dialled, not an answer to a
 * screen), no service code, no step number, and no closing notice.
 */
function latestInputOnly(
  gateway: 'arkesel' | 'nalo',
  fields: Fields,
  isNew: boolean,
  names: { network: string; input: string },
) {
  return {
    serviceCode: null,
    network: optionalText(gateway, fields, names.network) || null,
    isNew,
    input: { latest: isNew ? '' : (optionalText(gateway, fields, names.input, MAX_INPUT) ?? '') },
    sequence: null,
    closed: false,
  };
}

/** Arkesel: JSON with the latest input only; the reply echoes sessionID, userID and msisdn. */
export const arkesel: GatewayAdapter = {
  gateway: 'arkesel',
  requestContentType: 'application/json',
  sessionTtlSeconds: DEFAULT_SESSION_TTL_SECONDS.arkesel,
  parse(body) {
    const fields = fieldsOf('arkesel', body);
    const isNew = flag('arkesel', fields, 'newSession');
    const msisdn = requiredText('arkesel', fields, 'msisdn');
    return {
      gateway: 'arkesel',
      sessionId: requiredText('arkesel', fields, 'sessionID'),
      msisdn: toE164('arkesel', 'msisdn', msisdn),
      ...latestInputOnly('arkesel', fields, isNew, { network: 'network', input: 'userData' }),
      echo: { userID: optionalText('arkesel', fields, 'userID') ?? '', msisdn },
    };
  },
  render(request, reply) {
    return json({
      sessionID: request.sessionId,
      userID: request.echo?.userID ?? '',
      msisdn: request.echo?.msisdn ?? withoutPlus(request.msisdn),
      continueSession: reply.continue,
      message: reply.message,
    });
  },
};

/**
 * Nalo: JSON with the latest input only and no session id. A subscriber has one USSD session at a time, so the
 * session is the account (`USERID`) and the msisdn; `MSGTYPE` true starts a new one.
 */
export const nalo: GatewayAdapter = {
  gateway: 'nalo',
  requestContentType: 'application/json',
  sessionTtlSeconds: DEFAULT_SESSION_TTL_SECONDS.nalo,
  parse(body) {
    const fields = fieldsOf('nalo', body);
    const isNew = flag('nalo', fields, 'MSGTYPE');
    const userId = requiredText('nalo', fields, 'USERID');
    const raw = requiredText('nalo', fields, 'MSISDN');
    const msisdn = toE164('nalo', 'MSISDN', raw);
    return {
      gateway: 'nalo',
      sessionId: `${userId}:${msisdn}`,
      msisdn,
      ...latestInputOnly('nalo', fields, isNew, { network: 'NETWORK', input: 'USERDATA' }),
      echo: { USERID: userId, MSISDN: raw },
    };
  },
  render(request, reply) {
    return json({
      USERID: request.echo?.USERID ?? request.sessionId.split(':', 1)[0],
      MSISDN: request.echo?.MSISDN ?? withoutPlus(request.msisdn),
      MSGTYPE: reply.continue,
      MSG: reply.message,
    });
  },
};

export const gatewayAdapters: Readonly<Record<GatewayName, GatewayAdapter>> = {
  at: africasTalking,
  hubtel,
  arkesel,
  nalo,
};
