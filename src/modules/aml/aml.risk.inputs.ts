/**
 * What customer risk rating reads about a customer: the profile (tier, nationality, occupation, income band) and
 * addresses through the customers module's API, the tiers' ranks through KYC's, the wallets through the wallets
 * module's, and AML's own tables for counterparties and channels (aml_payment_facts, 90 days), the latest
 * screening (aml_screenings) and the alerts (aml_alerts, 180 days).
 */
import { and, desc, eq, gte, inArray, ne, or, sql } from 'drizzle-orm';
import { systemContext } from '../../platform/audit.ts';
import type { Executor } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import type { Principal } from '../../platform/http.ts';
import { type CustomersApi, customerStanding } from '../customers/index.ts';
import type { KycApi } from '../kyc/index.ts';
import type { WalletsService } from '../wallets/index.ts';
import type { RiskInputs } from './aml.risk.factors.ts';
import { type AlertPriority, amlAlerts, amlPaymentFacts, amlScreenings } from './aml.tables.ts';

const DAY_MS = 86_400_000;
/** Counterparties read per rating: the most recent ones (each is a profile read). */
const MAX_COUNTERPARTIES = 50;
/** Tiers and products change rarely: read at most this often. */
const REFERENCE_TTL_MS = 60_000;
/** Payment types that are cash over a counter (agent, teller) and channels where the payer is least known. */
const CASH_TYPES = ['cash_in', 'cash_out', 'cash_deposit', 'cash_withdrawal'];
const CASH_OR_USSD_CHANNELS = ['agent', 'ussd', 'branch'];
/** Address kinds that say where the customer lives or is established (a work address does not). */
const RESIDENCE_KINDS = new Set(['home', 'postal', 'business']);

/**
 * The profile read needs a principal only to decide whether PII is shown in clear; the risk area never asks for it,
 * so it reads as a principal without any permission.
 */
const READER: Principal = {
  type: 'user',
  id: '00000000-0000-0000-0000-000000000000',
  sessionId: 'aml-risk',
  tokenId: 'aml-risk',
  tokenExpiresAt: 0,
  permissions: new Set(),
  roles: [],
  passwordChangeRequired: false,
  mfaEnrollmentRequired: false,
  channel: 'web',
};

export interface RiskSources {
  db: Executor;
  customers: CustomersApi;
  kyc: KycApi;
  wallets: WalletsService;
}

export class RiskInputsReader {
  readonly #sources: RiskSources;
  #tiers: { at: number; ranks: Map<string, number> } | null = null;
  #products: { at: number; currencies: string[]; codes: Map<string, string> } | null = null;

  constructor(sources: RiskSources) {
    this.#sources = sources;
  }

  /** Throws the customers module's 404 when there is no such customer. */
  async exists(customerId: string): Promise<void> {
    if (!(await customerStanding(this.#sources.db, customerId))) throw commonErrors.notFound('Customer');
  }

  /** Everything the factors need; the customers module's 404 when there is no such customer. */
  async read(customerId: string, now = new Date()): Promise<RiskInputs> {
    const { customers } = this.#sources;
    const profile = await customers.customers.get(customerId, READER, false, systemContext());
    const [contacts, tiers, products, counterparties, screening, channels, alerts] = await Promise.all([
      customers.contacts.list(customerId),
      this.#tierRanks(),
      this.#productsOf(customerId),
      this.#counterparties(customerId, now),
      this.#latestScreening(customerId),
      this.#channels(customerId, now),
      this.#alerts(customerId, now),
    ]);
    const ranks = [...tiers.values()];
    return {
      tier: {
        code: profile.kyc_tier,
        rank: tiers.get(profile.kyc_tier) ?? Math.min(...ranks, 1),
        minRank: ranks.length ? Math.min(...ranks) : 1,
        maxRank: ranks.length ? Math.max(...ranks) : 1,
      },
      products,
      nationality: profile.nationality,
      residence: contacts.addresses
        .filter((address) => RESIDENCE_KINDS.has(address.kind))
        .map((address) => address.country),
      counterparties,
      occupation: profile.occupation,
      incomeBand: profile.income_band,
      screening,
      channels,
      alerts,
    };
  }

  async #tierRanks(): Promise<Map<string, number>> {
    if (this.#tiers && Date.now() - this.#tiers.at < REFERENCE_TTL_MS) return this.#tiers.ranks;
    const { items } = await this.#sources.kyc.kyc.listTiers();
    const ranks = new Map(items.map((tier) => [tier.code, tier.rank]));
    this.#tiers = { at: Date.now(), ranks };
    return ranks;
  }

  async #productsOf(customerId: string): Promise<{ code: string; currency: string }[]> {
    const wallets = this.#sources.wallets;
    if (!this.#products || Date.now() - this.#products.at >= REFERENCE_TTL_MS) {
      const list = await wallets.products.list();
      this.#products = {
        at: Date.now(),
        currencies: [...new Set(list.map((product) => product.currency))],
        codes: await wallets.products.codes(),
      };
    }
    const { currencies, codes } = this.#products;
    const found = await Promise.all(
      currencies.map((currency) => wallets.findCustomerWallet(customerId, currency)),
    );
    return found
      .filter((row) => row !== undefined && row.status !== 'closed')
      .map((row) => ({ code: codes.get(row!.productId) ?? '', currency: row!.currency }));
  }

  /** The distinct counterparties of the last 90 days (either direction), most recent first, with nationality. */
  async #counterparties(customerId: string, now: Date) {
    const since = new Date(now.getTime() - 90 * DAY_MS);
    const f = amlPaymentFacts;
    const result = (await this.#sources.db.execute(sql`
      select party as id from (
        select ${f.counterpartyCustomerId} as party, ${f.occurredAt} as at from ${f}
          where ${f.customerId} = ${customerId} and ${f.counterpartyCustomerId} is not null and ${f.occurredAt} >= ${since}
        union all
        select ${f.customerId}, ${f.occurredAt} from ${f}
          where ${f.counterpartyCustomerId} = ${customerId} and ${f.customerId} is not null and ${f.occurredAt} >= ${since}
      ) parties
      where party <> ${customerId}
      group by party order by max(at) desc limit ${MAX_COUNTERPARTIES}`)) as unknown as {
      rows: { id: string }[];
    };
    const rows = result.rows;
    const ids = rows.map((row) => row.id).filter((id) => id !== customerId);
    return Promise.all(
      ids.map(async (id) => {
        const profile = await this.#sources.customers.customers
          .get(id, READER, false, systemContext())
          .catch(() => null);
        return { customerId: id, nationality: profile?.nationality ?? null };
      }),
    );
  }

  /** The latest screening of the customer as a customer or at onboarding, and whether it matched a PEP. */
  async #latestScreening(customerId: string) {
    const [row] = await this.#sources.db
      .select({ id: amlScreenings.id, outcome: amlScreenings.outcome, matches: amlScreenings.matches })
      .from(amlScreenings)
      .where(
        and(
          inArray(amlScreenings.subjectKind, ['customer', 'onboarding']),
          eq(amlScreenings.subjectId, customerId),
        ),
      )
      .orderBy(desc(amlScreenings.createdAt), desc(amlScreenings.id))
      .limit(1);
    if (!row) return null;
    const pep = row.outcome !== 'clear' && row.matches.some((match) => match.pep === true);
    return { id: row.id, outcome: row.outcome, pep };
  }

  /** Payments made or received in cash or over USSD versus the rest, 90 days (counted: currencies do not add). */
  async #channels(customerId: string, now: Date) {
    const since = new Date(now.getTime() - 90 * DAY_MS);
    const cash = sql`(${inArray(amlPaymentFacts.type, CASH_TYPES)} or coalesce(${inArray(
      amlPaymentFacts.channel,
      CASH_OR_USSD_CHANNELS,
    )}, false))`;
    const [row] = await this.#sources.db
      .select({
        cash: sql<number>`(count(*) filter (where ${cash}))::int`,
        payments: sql<number>`count(*)::int`,
      })
      .from(amlPaymentFacts)
      .where(
        and(
          gte(amlPaymentFacts.occurredAt, since),
          or(
            eq(amlPaymentFacts.customerId, customerId),
            eq(amlPaymentFacts.counterpartyCustomerId, customerId),
          ),
        ),
      );
    return { cashOrUssd: Number(row?.cash ?? 0), payments: Number(row?.payments ?? 0) };
  }

  /** The customer's alerts by priority, 180 days, without the risk area's own (they follow from the rating). */
  async #alerts(customerId: string, now: Date): Promise<Record<AlertPriority, number>> {
    const since = new Date(now.getTime() - 180 * DAY_MS);
    const rows = await this.#sources.db
      .select({ priority: amlAlerts.priority, count: sql<number>`count(*)::int` })
      .from(amlAlerts)
      .where(
        and(
          eq(amlAlerts.customerId, customerId),
          gte(amlAlerts.createdAt, since),
          ne(amlAlerts.source, 'risk'),
        ),
      )
      .groupBy(amlAlerts.priority);
    const counts: Record<AlertPriority, number> = { low: 0, medium: 0, high: 0, critical: 0 };
    for (const row of rows) counts[row.priority] = Number(row.count);
    return counts;
  }
}
