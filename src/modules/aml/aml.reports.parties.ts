/**
 * The parties of a goAML report, read through the other modules' exported functions (never their tables), inside the
 * caller's transaction: the customer as a person (names, gender, date of birth, nationality, residence, primary phone,
 * residential address, email, occupation and identity document, each only when the customer record holds it), a
 * wallet as an account of the bank's with its holder as signatory, and each transaction's from and to sides.
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import type { KeyRing } from '../../platform/crypto.ts';
import type { Executor } from '../../platform/db.ts';
import { formatDecimal } from '../../platform/money.ts';
import { type CustomerReportingIdentity, customerReportingIdentity } from '../customers/index.ts';
import type { TransactionRow } from '../transactions/index.ts';
import type { WalletRow, WalletsService } from '../wallets/index.ts';
import type {
  GoamlAddress,
  GoamlClientAccount,
  GoamlFunds,
  GoamlIdentification,
  GoamlParty,
  GoamlPerson,
  GoamlTransaction,
  GoamlTransmode,
} from './aml.goaml.xml.ts';
import { goamlDate } from './aml.goaml.xml.ts';

/** The cash types a CTR covers: teller (cash_deposit, cash_withdrawal) and agent (cash_in, cash_out). */
export const CASH_IN_TYPES = new Set(['cash_deposit', 'cash_in']);
export const CASH_OUT_TYPES = new Set(['cash_withdrawal', 'cash_out']);
export const CASH_TYPES = new Set([...CASH_IN_TYPES, ...CASH_OUT_TYPES]);

export interface PartySettings {
  institutionName: string;
  institutionCode: string;
  branch: string | null;
  country: string;
  timeZone: string;
  currencyLocal: string;
}

/** Converts an amount to the local currency: the local amount and the rate (decimal strings). */
export type ToLocal = (
  amount: bigint,
  currency: string,
) => Promise<{ amountLocal: string; rate: string | null }>;

const ID_TYPES: Record<string, GoamlIdentification['type']> = {
  national_id: 'N',
  passport: 'P',
  alien_id: 'A',
  drivers_license: 'D',
  business_registration: 'B',
};

const WALLET_STATUS: Record<string, GoamlClientAccount['status']> = { active: 'A', closed: 'C' };

/** Text cut to the schema's length (goAML refuses longer values). */
const cut = (value: string | null | undefined, max: number) =>
  value ? value.trim().slice(0, max) || null : null;

function transmodeOf(row: TransactionRow): GoamlTransmode {
  if (CASH_TYPES.has(row.type)) return 'K';
  if (row.merchantId || row.billerId) return 'M';
  const bankAccount = (row.metadata as Record<string, unknown> | null)?.bank_account_id;
  if (bankAccount || row.type.startsWith('bank_')) return 'B';
  if (row.sourceWalletId && row.destinationWalletId) return 'E';
  return 'X';
}

const GENDERS: Record<string, GoamlPerson['gender']> = { female: 'F', male: 'M' };

const ADDRESS_TYPES: Record<string, GoamlAddress['type']> = {
  home: 'P',
  work: 'W',
  postal: 'O',
  business: 'B',
};

/** An ISO 3166-1 alpha-2 code as the schema takes it; null for anything else (never guessed). */
const country = (value: string | null | undefined) => (value && /^[A-Z]{2}$/.test(value) ? value : null);

/** A date of birth (`YYYY-MM-DD`) as goAML's dateTime without a zone. */
const birthdate = (value: string | null) =>
  value && /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00` : null;

/**
 * The customer as a goAML person: each element only when the record holds a value the schema takes. The identity
 * document's issuing country is not on the customer record: `documentCountry` (GOAML_COUNTRY) stands in for it.
 */
export function goamlPerson(customer: CustomerReportingIdentity, documentCountry: string): GoamlPerson {
  const parsed = customer.phone ? parsePhoneNumberFromString(customer.phone) : undefined;
  const document = customer.idDocument;
  const idType = document ? ID_TYPES[document.type] : undefined;
  const number = document ? document.number.trim() : '';
  const address = customer.address;
  const addressCountry = country(address?.country);
  const street = address ? cut([address.line1, address.line2].filter(Boolean).join(', '), 100) : null;
  const city = cut(address?.city, 255);
  const goamlAddress: GoamlAddress | null =
    address && addressCountry && street && city
      ? {
          type: ADDRESS_TYPES[address.kind] ?? 'P',
          address: street,
          city,
          zip: cut(address.postalCode, 50),
          countryCode: addressCountry,
          state: cut(address.region, 255),
        }
      : null;
  return {
    gender: customer.gender ? (GENDERS[customer.gender] ?? null) : null,
    firstName: cut(customer.firstName, 100) ?? cut(customer.businessName, 100) ?? '-',
    middleName: cut(customer.middleName, 100),
    lastName: cut(customer.lastName, 100) ?? cut(customer.businessName, 100) ?? '-',
    birthdate: birthdate(customer.dateOfBirth),
    passportNumber: idType === 'P' && number.length <= 50 ? number || null : null,
    idNumber: idType === 'N' && number.length <= 50 ? number || null : null,
    nationality: country(customer.nationality),
    residence: country(customer.residenceCountry),
    phones: parsed
      ? [
          {
            contactType: 'P',
            communicationType: 'M',
            countryPrefix: parsed.countryCallingCode,
            number: parsed.nationalNumber,
          },
        ]
      : [],
    addresses: goamlAddress ? [goamlAddress] : [],
    email: cut(customer.email, 255),
    occupation: cut(customer.occupation, 255),
    identification:
      idType && number ? [{ type: idType, number: number.slice(0, 255), issueCountry: documentCountry }] : [],
  };
}

/** Reads the people and wallets of one report (each once). */
export class ReportParties {
  readonly #tx: Executor;
  readonly #keys: KeyRing;
  readonly #wallets: WalletsService;
  readonly #settings: PartySettings;
  readonly #people = new Map<string, Promise<GoamlPerson | null>>();
  /** Every customer the report names. */
  readonly customerIds = new Set<string>();

  constructor(deps: {
    tx: Executor;
    keys: KeyRing;
    wallets: WalletsService;
    settings: PartySettings;
  }) {
    this.#tx = deps.tx;
    this.#keys = deps.keys;
    this.#wallets = deps.wallets;
    this.#settings = deps.settings;
  }

  /** The customer as a goAML person; null when there is no such customer. */
  person(customerId: string): Promise<GoamlPerson | null> {
    let person = this.#people.get(customerId);
    if (!person) {
      person = this.#readPerson(customerId);
      this.#people.set(customerId, person);
    }
    return person;
  }

  async #readPerson(customerId: string): Promise<GoamlPerson | null> {
    const customer = (await customerReportingIdentity(this.#tx, this.#keys, [customerId])).get(customerId);
    if (!customer) return null;
    this.customerIds.add(customerId);
    return goamlPerson(customer, this.#settings.country);
  }

  async #wallet(walletId: string): Promise<WalletRow | undefined> {
    const [row] = await this.#wallets.rows([walletId], this.#tx);
    return row;
  }

  /** A wallet of the bank's as a goAML account, its holder (a customer) as primary signatory. */
  async account(
    walletId: string,
  ): Promise<{ account: GoamlClientAccount; customerId: string | null } | null> {
    const wallet = await this.#wallet(walletId);
    if (!wallet) return null;
    const holder = wallet.customerId ? await this.person(wallet.customerId) : null;
    return {
      customerId: wallet.customerId,
      account: {
        institutionName: this.#settings.institutionName,
        institutionCode: this.#settings.institutionCode,
        branch: this.#settings.branch,
        account: wallet.walletNumber,
        currency: wallet.currency,
        accountName: holder
          ? `${holder.firstName} ${holder.lastName}`
          : wallet.merchantId
            ? `Merchant ${wallet.merchantId}`
            : null,
        type: wallet.ownerType === 'merchant' ? 'M' : 'W',
        signatories: holder ? [holder] : [],
        opened: goamlDate(wallet.createdAt, this.#settings.timeZone),
        status: WALLET_STATUS[wallet.status] ?? 'F',
      },
    };
  }

  /**
   * One side of a transaction: the wallet when it has one; else the customer in person (cash paid in or taken out
   * at a teller or agent); else the house account the money came from or went to (a biller, a bank account).
   */
  async #side(
    row: TransactionRow,
    side: 'from' | 'to',
    foreign: { currency: string; amount: string; rate: string } | null,
  ): Promise<GoamlParty> {
    const walletId = side === 'from' ? row.sourceWalletId : row.destinationWalletId;
    const cash = side === 'from' ? CASH_IN_TYPES.has(row.type) : CASH_OUT_TYPES.has(row.type);
    const country = this.#settings.country;
    if (walletId && !cash) {
      const wallet = await this.account(walletId);
      if (wallet) return { kind: 'client_account', funds: 'E', foreign, account: wallet.account, country };
    }
    const customerId = cash ? this.#cashCustomer(row) : null;
    const person = customerId ? await this.person(customerId) : null;
    if (person) return { kind: 'client_person', funds: cash ? 'K' : 'E', foreign, person, country };
    const metadata = (row.metadata as Record<string, unknown> | null) ?? {};
    const counterparty =
      row.billerId ??
      row.merchantId ??
      (typeof metadata.bank_account_id === 'string' ? metadata.bank_account_id : null);
    const funds: GoamlFunds = cash ? 'K' : row.type.startsWith('bank_') ? 'A' : 'O';
    return {
      kind: 'other_account',
      funds,
      fundsComment: cut(row.type, 255),
      foreign,
      account: {
        institutionName: this.#settings.institutionName,
        account: cut(counterparty ?? `${row.type}:${row.reference}`, 50) ?? row.reference,
        currency: row.currency,
        accountName: cut(row.billerId ? 'Biller' : row.merchantId ? 'Merchant' : 'House account', 255),
        comments: cut(typeof metadata.bill_reference === 'string' ? metadata.bill_reference : null, 4000),
      },
      country,
    };
  }

  /** Who paid the cash in or took it out: the wallet's holder (the teller or agent served them). */
  #cashCustomer(row: TransactionRow): string | null {
    return CASH_IN_TYPES.has(row.type)
      ? (row.counterpartyCustomerId ?? row.customerId)
      : (row.customerId ?? row.counterpartyCustomerId);
  }

  /** The transaction as goAML reports it. */
  async transaction(row: TransactionRow, toLocal: ToLocal): Promise<GoamlTransaction> {
    const local = await toLocal(row.amount, row.currency);
    const foreign =
      row.currency === this.#settings.currencyLocal || local.rate === null
        ? null
        : { currency: row.currency, amount: formatDecimal(row.amount, row.currency), rate: local.rate };
    const teller = row.initiatedByType === 'customer' ? null : cut(row.initiatedById, 50);
    return {
      number: row.reference.slice(0, 50),
      internalRef: row.id.replace(/-/g, '').slice(0, 32),
      location: cut(row.channel, 255),
      description: cut(row.narration ?? row.type, 4000),
      date: goamlDate(row.completedAt ?? row.createdAt, this.#settings.timeZone),
      teller,
      transmode: transmodeOf(row),
      transmodeComment: cut(row.type, 50),
      amountLocal: local.amountLocal,
      from: await this.#side(row, 'from', foreign),
      to: await this.#side(row, 'to', foreign),
    };
  }
}
