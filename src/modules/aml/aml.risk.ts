/**
 * Customer risk rating (the RiskReader of aml.ports.ts): reads the factors' inputs, scores them with the weights and
 * bands in settings, stores the rating (aml_risk_ratings, upserted) and its history (aml_risk_history, appended),
 * and starts enhanced due diligence when a customer becomes high: a `risk_high` alert through the AlertSink (its case
 * is the KYC review task) and `aml.risk_band_changed`. While high, the customer's limits are scaled down to
 * `aml.high_risk_limit_percent` (customers' limit scale, reason `aml_high_risk`), in the rating's transaction; leaving
 * high lifts that scale only (a staff restriction stays). The current rating is cached per node for a short while.
 */
import { and, desc, eq, gte, isNotNull, lt, sql } from 'drizzle-orm';
import { type RequestContext, systemContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { AppError } from '../../platform/error-catalogue.ts';
import { decodeCursor, paginate } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { emitEvent } from '../../platform/outbox.ts';
import {
  type CustomerLimitScale,
  clearCustomerLimitScale,
  customerLimitScale,
  setCustomerLimitScale,
} from '../customers/index.ts';
import type { SettingsService } from '../settings/index.ts';
import type { AlertSink, RiskRating, RiskReader } from './aml.ports.ts';
import { riskBandChanged } from './aml.risk.events.ts';
import { type RiskSettings, type Scored, scoreRisk } from './aml.risk.factors.ts';
import type { RiskInputsReader } from './aml.risk.inputs.ts';
import { amlPaymentFacts, amlRiskHistory, amlRiskRatings, type RiskBand } from './aml.tables.ts';

const DEFAULT_CACHE_MS = 30_000;
/** The reason code of the limit scale enhanced due diligence sets (customers.limits.ts). */
export const AML_LIMIT_REASON = 'aml_high_risk';
const MAX_CACHED = 10_000;

export interface RiskServiceOptions {
  db: Executor;
  settings: SettingsService;
  inputs: RiskInputsReader;
  alerts: AlertSink;
  /** How long `ratingOf` answers from this node's cache (at most 30 s). */
  cacheMs?: number;
}

export class RiskService implements RiskReader {
  readonly #db: Executor;
  readonly #settings: SettingsService;
  readonly #inputs: RiskInputsReader;
  readonly #alerts: AlertSink;
  readonly #cacheMs: number;
  readonly #cache = new Map<string, { rating: RiskRating | null; at: number }>();

  constructor(options: RiskServiceOptions) {
    this.#db = options.db;
    this.#settings = options.settings;
    this.#inputs = options.inputs;
    this.#alerts = options.alerts;
    this.#cacheMs = Math.min(options.cacheMs ?? DEFAULT_CACHE_MS, DEFAULT_CACHE_MS);
  }

  async ratingOf(customerId: string): Promise<RiskRating | null> {
    const cached = this.#cache.get(customerId);
    if (cached && Date.now() - cached.at < this.#cacheMs) return cached.rating;
    const rating = await this.#stored(this.#db, customerId);
    this.#remember(customerId, rating);
    return rating;
  }

  recompute(
    customerId: string,
    trigger: string,
    context: RequestContext = systemContext(),
  ): Promise<RiskRating> {
    return this.#recompute(null, customerId, trigger, context);
  }

  /** An event's recompute, inside the consumer's transaction; an unknown (or since removed) customer is skipped. */
  async recomputeOnEvent(tx: Executor, customerId: string, trigger: string): Promise<void> {
    try {
      await this.#recompute(tx, customerId, trigger, systemContext());
    } catch (error) {
      if (error instanceof AppError && error.errorCode === 'NOT_FOUND') return;
      throw error;
    }
  }

  /** What staff see: the current rating, computed now when the customer was never rated; 404 for no customer. */
  async current(customerId: string, context: RequestContext): Promise<RiskRating> {
    const rating = await this.#stored(this.#db, customerId);
    return rating ?? this.#recompute(null, customerId, 'first_view', context);
  }

  /** The customer's limit scale as staff see it beside the rating (who reduced the limits, and to what). */
  async limitScale(customerId: string): Promise<CustomerLimitScale> {
    return (await customerLimitScale(this.#db, customerId)) ?? { percent: 100, reason: null };
  }

  /** The customer's ratings, newest first. */
  async history(customerId: string, query: { limit?: number; cursor?: string }) {
    const limit = query.limit ?? 20;
    const position = decodeCursor(query.cursor, ['id'] as const);
    const [rated] = await this.#db
      .select({ id: amlRiskRatings.customerId })
      .from(amlRiskRatings)
      .where(eq(amlRiskRatings.customerId, customerId))
      .limit(1);
    // A customer never rated has no history; one that does not exist is a 404 (the profile read says which).
    if (!rated) await this.#inputs.exists(customerId);
    const rows = await this.#db
      .select()
      .from(amlRiskHistory)
      .where(
        and(
          eq(amlRiskHistory.customerId, customerId),
          position ? lt(amlRiskHistory.id, position.id) : undefined,
        ),
      )
      .orderBy(desc(amlRiskHistory.id))
      .limit(limit + 1);
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    return {
      items: page.items.map((row) => ({
        id: row.id,
        score: row.score,
        band: row.band,
        factors: row.factors,
        trigger: row.trigger,
        computed_at: row.computedAt.toISOString(),
      })),
      next_cursor: page.next_cursor,
    };
  }

  /** The nightly recompute: every customer with a payment (either side) since `since`. */
  async recomputeActive(since: Date): Promise<{ recomputed: number; failed: number }> {
    const [payers, payees] = await Promise.all([
      this.#db
        .selectDistinct({ id: amlPaymentFacts.customerId })
        .from(amlPaymentFacts)
        .where(and(gte(amlPaymentFacts.occurredAt, since), isNotNull(amlPaymentFacts.customerId))),
      this.#db
        .selectDistinct({ id: amlPaymentFacts.counterpartyCustomerId })
        .from(amlPaymentFacts)
        .where(
          and(gte(amlPaymentFacts.occurredAt, since), isNotNull(amlPaymentFacts.counterpartyCustomerId)),
        ),
    ]);
    const ids = new Set([...payers, ...payees].map((row) => row.id!));
    let recomputed = 0;
    let failed = 0;
    for (const id of ids) {
      try {
        await this.recompute(id, 'nightly');
        recomputed += 1;
      } catch {
        // One customer's failure (a removed row) does not stop the others; the next night retries it.
        failed += 1;
      }
    }
    return { recomputed, failed };
  }

  async riskSettings(): Promise<RiskSettings> {
    const [weights, bands, highRiskCountries, highRiskOccupations, pepAlwaysHigh] = await Promise.all([
      this.#settings.get('aml.risk_weights'),
      this.#settings.get('aml.risk_bands'),
      this.#settings.get('aml.high_risk_countries'),
      this.#settings.get('aml.high_risk_occupations'),
      this.#settings.get('aml.pep_always_high'),
    ]);
    return { weights, bands, highRiskCountries, highRiskOccupations, pepAlwaysHigh };
  }

  async #recompute(
    outer: Executor | null,
    customerId: string,
    trigger: string,
    context: RequestContext,
  ): Promise<RiskRating> {
    const [inputs, settings] = await Promise.all([this.#inputs.read(customerId), this.riskSettings()]);
    const scored = scoreRisk(inputs, settings);
    this.#cache.delete(customerId);
    const rating = outer
      ? await this.#store(outer, customerId, scored, trigger, context)
      : await inTransaction(this.#db, (tx) => this.#store(tx, customerId, scored, trigger, context));
    this.#remember(customerId, rating);
    return rating;
  }

  /** Upserts the rating, appends its history, and on a band change publishes it (and on high, raises EDD). */
  async #store(
    tx: Executor,
    customerId: string,
    scored: Scored,
    trigger: string,
    context: RequestContext,
  ): Promise<RiskRating> {
    // One recompute of a customer at a time: the previous band decides the alert, so two must not both see "low".
    await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`aml_risk:${customerId}`}, 0))`);
    const previous = await this.#stored(tx, customerId);
    const computedAt = new Date();
    const row = {
      score: scored.score,
      band: scored.band,
      factors: scored.factors,
      pep: scored.pep,
      trigger,
      computedAt,
    };
    await tx
      .insert(amlRiskRatings)
      .values({ customerId, ...row })
      .onConflictDoUpdate({ target: amlRiskRatings.customerId, set: row });
    const historyId = uuidv7();
    await tx.insert(amlRiskHistory).values({
      id: historyId,
      customerId,
      score: scored.score,
      band: scored.band,
      factors: scored.factors,
      trigger,
      computedAt,
    });
    const oldBand: RiskBand | null = previous?.band ?? null;
    if (oldBand !== scored.band) {
      await emitEvent(
        tx,
        riskBandChanged,
        { type: 'customer', id: customerId },
        { customer_id: customerId, old_band: oldBand, new_band: scored.band, score: scored.score, trigger },
      );
    }
    // Enhanced due diligence: lower limits while high, on every rating (so a changed setting, or a customer rated high
    // before the scale existed, is brought in line at the next recompute); a scale another reason set is left alone.
    const percent = await this.#settings.get('aml.high_risk_limit_percent');
    if (scored.band === 'high' && percent < 100)
      await setCustomerLimitScale(tx, customerId, { percent, reason: AML_LIMIT_REASON }, context, {
        onlyOwn: true,
      });
    else await clearCustomerLimitScale(tx, customerId, AML_LIMIT_REASON, context);
    if (scored.band === 'high' && oldBand !== 'high') {
      // Enhanced due diligence: the alert's case is the KYC review task (one per customer while it is open).
      await this.#alerts.raise(tx, {
        source: 'risk',
        pattern: 'risk_high',
        priority: 'high',
        customerId,
        evidence: {
          fields: {
            score: scored.score,
            band: scored.band,
            previous_band: oldBand,
            pep: scored.pep,
            trigger,
            factors: scored.factors.map(({ factor, score, weight }) => ({ factor, score, weight })),
          },
        },
        dedupeKey: `risk_high:${historyId}`,
      });
    }
    if (context.actor.type === 'user') {
      await writeAudit(tx, context, {
        action: 'aml.risk_recomputed',
        entityType: 'aml_risk_rating',
        entityId: customerId,
        after: { trigger },
      });
    }
    return { customerId, ...row, computedAt };
  }

  async #stored(executor: Executor, customerId: string): Promise<RiskRating | null> {
    const [row] = await executor
      .select()
      .from(amlRiskRatings)
      .where(eq(amlRiskRatings.customerId, customerId))
      .limit(1);
    if (!row) return null;
    return {
      customerId: row.customerId,
      score: row.score,
      band: row.band,
      pep: row.pep,
      factors: row.factors,
      computedAt: row.computedAt,
    };
  }

  #remember(customerId: string, rating: RiskRating | null): void {
    if (this.#cache.size >= MAX_CACHED) {
      // Oldest first (insertion order): drop the first tenth.
      let drop = Math.ceil(MAX_CACHED / 10);
      for (const key of this.#cache.keys()) {
        this.#cache.delete(key);
        if (--drop === 0) break;
      }
    }
    this.#cache.delete(customerId);
    this.#cache.set(customerId, { rating, at: Date.now() });
  }
}

/** The rating as the API shows it (staff only), with the customer's limit scale. */
export function ratingView(rating: RiskRating, scale: CustomerLimitScale) {
  return {
    customer_id: rating.customerId,
    score: rating.score,
    band: rating.band,
    pep: rating.pep,
    factors: rating.factors,
    computed_at: rating.computedAt.toISOString(),
    limits: { reduced: scale.percent < 100, percent: scale.percent, reason: scale.reason },
  };
}
