/**
 * What receipts and statements need beyond the wallet module's own tables: the institution's letterhead (settings
 * `institution.*`), the customer's time zone (their notification preference, else `institution.time_zone`), the
 * names of wallet owners (customers here; merchants through the merchants module's lookup), and what a transaction
 * was (the transactions module's description). Modules further up the dependency order plug their lookups in at
 * start-up, as they do for `WalletsService.addOwnerCondition`.
 */
import type { Executor } from '../../platform/db.ts';
import { type Institution, logoProblem } from '../../platform/pdf.ts';
import { customerNames } from '../customers/index.ts';
import type { SettingsService } from '../settings/index.ts';
import type { WalletRow } from './wallets.service.ts';

const FALLBACK_ZONE = 'UTC';
const DATA_URI = /^data:image\/(png|jpeg);base64,([A-Za-z0-9+/]+={0,2})$/;

/** Whether Intl knows the zone (an unknown one would throw while formatting). */
export function knownTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** One line per transaction id, as seen from the wallet (e.g. "Transfer to Wanjikũ Kamau"). */
export type TransactionDescriber = (
  transactionIds: string[],
  walletId: string,
) => Promise<Map<string, string>>;

export class WalletDocuments {
  readonly #db: Executor;
  #settings: Pick<SettingsService, 'get' | 'addCheck'> | null = null;
  #storedTimeZone: (customerId: string) => Promise<string | null> = async () => null;
  #merchantNames: (ids: string[]) => Promise<Map<string, string>> = async () => new Map();
  #describe: TransactionDescriber = async () => new Map();

  constructor(db: Executor) {
    this.#db = db;
  }

  /**
   * Settings (letterhead, default zone) and where a customer's own time zone is kept. A logo must be an image the
   * PDF writer can embed safely (`logoProblem`), and the zone one Intl knows: either is refused when it is set, not
   * found later by every receipt.
   */
  configure(options: { settings: Pick<SettingsService, 'get' | 'addCheck'> }): void {
    this.#settings = options.settings;
    options.settings.addCheck('institution.logo', (value) => {
      const image = typeof value === 'string' ? DATA_URI.exec(value) : null;
      if (!image) return null; // null, or a value the schema refuses with its own message
      const problem = logoProblem(Buffer.from(image[2]!, 'base64'));
      return problem && `The logo ${problem}`;
    });
    // The schema checks the shape of a zone name; a misspelt one ("Africa/Nairobbi") would put every document in UTC.
    options.settings.addCheck('institution.time_zone', (value) =>
      typeof value === 'string' && !knownTimeZone(value) ? `Unknown time zone: ${value}` : null,
    );
  }

  /** Where a customer's own time zone is kept (their notification preferences); UTC's default zone otherwise. */
  setTimeZoneLookup(lookup: (customerId: string) => Promise<string | null>): void {
    this.#storedTimeZone = lookup;
  }

  setMerchantNames(lookup: (ids: string[]) => Promise<Map<string, string>>): void {
    this.#merchantNames = lookup;
  }

  setTransactionDescriber(describe: TransactionDescriber): void {
    this.#describe = describe;
  }

  describe(transactionIds: string[], walletId: string): Promise<Map<string, string>> {
    if (transactionIds.length === 0) return Promise.resolve(new Map());
    return this.#describe(transactionIds, walletId);
  }

  async institution(): Promise<Institution> {
    if (!this.#settings) return { name: 'CodeForge Suite', registration: '', logo: null };
    const [name, registration, logo] = await Promise.all([
      this.#settings.get('institution.name'),
      this.#settings.get('institution.registration'),
      this.#settings.get('institution.logo'),
    ]);
    const image = logo === null ? null : DATA_URI.exec(logo);
    const bytes = image ? Buffer.from(image[2]!, 'base64') : null;
    // A logo stored before its check existed is left out rather than handed to the PDF writer.
    return { name, registration, logo: bytes && logoProblem(bytes) === null ? bytes : null };
  }

  /** The customer's own time zone, else the institution's; null customer (a house account) takes the latter. */
  async timeZoneFor(customerId: string | null): Promise<string> {
    const own = customerId ? await this.#storedTimeZone(customerId) : null;
    if (own && knownTimeZone(own)) return own;
    const fallback = this.#settings ? await this.#settings.get('institution.time_zone') : FALLBACK_ZONE;
    return knownTimeZone(fallback) ? fallback : FALLBACK_ZONE;
  }

  async customerNames(ids: readonly (string | null)[]): Promise<Map<string, string>> {
    const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
    if (wanted.length === 0) return new Map();
    const rows = await customerNames(this.#db, wanted);
    return new Map(
      [...rows].map(([id, row]) => [
        id,
        row.businessName ??
          [row.firstName, row.middleName, row.lastName].filter((part) => part?.trim()).join(' '),
      ]),
    );
  }

  merchantNames(ids: readonly (string | null)[]): Promise<Map<string, string>> {
    const wanted = [...new Set(ids.filter((id): id is string => id !== null))];
    if (wanted.length === 0) return Promise.resolve(new Map());
    return this.#merchantNames(wanted);
  }

  /** The owner's name of each wallet (customer or merchant), by wallet id. */
  async ownerNames(rows: readonly WalletRow[]): Promise<Map<string, string>> {
    const [people, merchants] = await Promise.all([
      this.customerNames(rows.map((row) => (row.ownerType === 'customer' ? row.customerId : null))),
      this.merchantNames(rows.map((row) => (row.ownerType === 'merchant' ? row.merchantId : null))),
    ]);
    const names = new Map<string, string>();
    for (const row of rows) {
      const name =
        row.ownerType === 'merchant'
          ? row.merchantId && merchants.get(row.merchantId)
          : row.customerId && people.get(row.customerId);
      if (name) names.set(row.id, name);
    }
    return names;
  }
}
