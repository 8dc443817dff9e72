/**
 * Scoring of loan applications: gathers the scorecard's facts (wallet activity through the ledger, past loans, KYC
 * tier), asks the credit bureau (Metropol) when one is configured, applies the policy, and stores every result. The
 * bureau is called outside any transaction; the result and the application's pointer to it are written in one.
 * Customers never see scores: declined applicants see the adverse reasons through their application.
 */
import { and, desc, eq, lt } from 'drizzle-orm';
import { isTimeout } from '../../integrations/http.ts';
import {
  type CreditBureau,
  MetropolClient,
  MetropolError,
  type MetropolIdentityType,
} from '../../integrations/metropol/metropol.client.ts';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { integer, text, url, variable } from '../../platform/config-spec.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { commonErrors, DependencyUnavailableError } from '../../platform/errors.ts';
import { decodeCursor, paginate } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { currencyInfo } from '../../platform/money.ts';
import { customerCreditIdentity } from '../customers/index.ts';
import type { KycService } from '../kyc/index.ts';
import type { WalletsService } from '../wallets/index.ts';
import { loansErrors } from './loans.errors.ts';
import type { Scorer, ScoringOutcome } from './loans.ports.ts';
import { DAY_MS, loanHistory, walletActivity } from './loans.scoring.facts.ts';
import { type BureauOutcome, decide } from './loans.scoring.policy.ts';
import { scorecard } from './loans.scoring.scorecard.ts';
import { loanScoringResults } from './loans.scoring.tables.ts';
import { loanApplications, loanProductVersions } from './loans.tables.ts';

/** The loans module's own variables for the credit bureau (documented in .env.example). */
export const scoringConfig = {
  METROPOL_BASE_URL: variable(
    'Metropol CRB API root with its version (e.g. https://api.metropol.co.ke:5555/v2_1); unset: no credit bureau, ' +
      'the scoring policy decides on the internal score alone and says so in the reasons.',
    undefined,
    url(['https:', 'http:']),
  ),
  METROPOL_PUBLIC_KEY: variable(
    'Metropol public API key (the X-METROPOL-REST-API-KEY header); required with METROPOL_BASE_URL.',
    undefined,
    text,
  ),
  METROPOL_PRIVATE_KEY: variable(
    'Metropol private API key: signs every request, is never sent nor logged; required with METROPOL_BASE_URL.',
    undefined,
    text,
    true,
  ),
  METROPOL_TIMEOUT_MS: variable(
    'How long a Metropol inquiry may take (milliseconds) before the bureau counts as unavailable (the ' +
      'application is then referred, never approved).',
    '10000',
    integer(100, 120_000),
  ),
} as const;

export interface ScoringConfigValues {
  METROPOL_BASE_URL: string | undefined;
  METROPOL_PUBLIC_KEY: string | undefined;
  METROPOL_PRIVATE_KEY: string | undefined;
  METROPOL_TIMEOUT_MS: number;
}

/** The bureau client from the module's config; null when no bureau is configured (quick start, development). */
export function bureauFromConfig(config: ScoringConfigValues, production: boolean): CreditBureau | null {
  if (!config.METROPOL_BASE_URL) return null;
  if (!config.METROPOL_PUBLIC_KEY || !config.METROPOL_PRIVATE_KEY)
    throw new Error(
      'METROPOL_PUBLIC_KEY and METROPOL_PRIVATE_KEY are required when METROPOL_BASE_URL is set',
    );
  if (production && !config.METROPOL_BASE_URL.startsWith('https:'))
    throw new Error('METROPOL_BASE_URL must use https in production');
  return new MetropolClient({
    baseUrl: config.METROPOL_BASE_URL,
    publicKey: config.METROPOL_PUBLIC_KEY,
    privateKey: config.METROPOL_PRIVATE_KEY,
    timeoutMs: config.METROPOL_TIMEOUT_MS,
  });
}

/** Our ID document types in Metropol's codes; a driver's licence has none (the bureau is not asked). */
const METROPOL_TYPES: Record<string, MetropolIdentityType> = {
  national_id: '001',
  passport: '002',
  alien_id: '004',
  business_registration: '005',
};

const SCORABLE = new Set(['submitted', 'flagged', 'referred']);

type ResultRow = typeof loanScoringResults.$inferSelect;

export function scoringResultView(row: ResultRow) {
  return {
    id: row.id,
    application_id: row.applicationId,
    customer_id: row.customerId,
    internal_score: row.internalScore,
    internal_max_score: row.internalMaxScore,
    factors: row.factors,
    bureau: {
      status: row.bureauStatus,
      score: row.bureauScore,
      delinquency_code: row.bureauDelinquencyCode,
      delinquency_summary: row.bureauDelinquencySummary,
      error: row.bureauError,
    },
    final_score: row.finalScore,
    decision: row.decision,
    recommended_limit_minor: row.recommendedLimitMinor,
    currency: row.currency,
    reasons: row.reasons,
    scored_by: { type: row.scoredByType, id: row.scoredById },
    created_at: row.createdAt.toISOString(),
  };
}
export type ScoringResultView = ReturnType<typeof scoringResultView>;

export interface ScoringServiceOptions {
  deps: Pick<Dependencies, 'database' | 'keys'>;
  wallets: Pick<WalletsService, 'findCustomerWallet'>;
  kyc: Pick<KycService, 'listTiers'>;
  bureau: CreditBureau | null;
  now?: () => Date;
}

export class ScoringService implements Scorer {
  readonly #db: Executor;
  readonly #options: ScoringServiceOptions;
  readonly #now: () => Date;

  constructor(options: ScoringServiceOptions) {
    this.#db = options.deps.database.db;
    this.#options = options;
    this.#now = options.now ?? (() => new Date());
  }

  get bureauConfigured(): boolean {
    return this.#options.bureau !== null;
  }

  /** Resolves when the bureau answers HTTP (no paid inquiry); only meaningful when one is configured. */
  async pingBureau(): Promise<void> {
    await this.#options.bureau?.ping();
  }

  /** The pipeline's port: scores and stores; a decline carries only the adverse reasons (shown to the customer). */
  async score(applicationId: string, context: RequestContext): Promise<ScoringOutcome> {
    const result = await this.run(applicationId, context);
    const reasons = result.reasons
      .filter((reason) => result.decision !== 'decline' || reason.adverse)
      .map(({ code, message }) => ({ code, message }));
    return {
      result_id: result.id,
      decision: result.decision,
      recommended_limit_minor: result.recommended_limit_minor,
      reasons,
    };
  }

  /** Scores an open application and stores the result (the application points at it); staff see all of it. */
  async run(applicationId: string, context: RequestContext): Promise<ScoringResultView> {
    const [application] = await this.#db
      .select()
      .from(loanApplications)
      .where(eq(loanApplications.id, applicationId))
      .limit(1);
    if (!application) throw commonErrors.notFound('Loan application');
    if (!SCORABLE.has(application.status))
      throw loansErrors.LOAN_SCORING_NOT_ALLOWED({
        params: { number: application.number, status: application.status },
      });
    const now = this.#now();
    const { currency, customerId, amountMinor } = application;
    const exponent = currencyInfo(currency).exponent;
    const [identity, wallet, tiers, history, terms] = await Promise.all([
      customerCreditIdentity(this.#db, this.#options.deps.keys, customerId),
      this.#options.wallets.findCustomerWallet(customerId, currency),
      this.#options.kyc.listTiers(),
      loanHistory(this.#db, customerId, now.toISOString().slice(0, 10)),
      this.#terms(application.productId, application.productVersion),
    ]);
    const kycTier = identity?.kycTier ?? 'unknown';
    const activity = wallet
      ? await walletActivity(this.#db, wallet.id, now)
      : { averageBalanceMinor: 0n, inflowsMinor: 0n, monthsWithInflows: 0 };
    const card = scorecard({
      walletTenureDays: wallet ? Math.floor((now.getTime() - wallet.createdAt.getTime()) / DAY_MS) : null,
      averageBalanceMinor: activity.averageBalanceMinor,
      monthsWithInflows: activity.monthsWithInflows,
      loans: history,
      kycTier,
      kycTierRank: tiers.items.find((tier) => tier.code === kycTier)?.rank ?? 0,
      amountMinor,
    });
    const bureau = await this.#askBureau(identity?.idDocument ?? null, amountMinor, exponent);
    const policy = decide({
      scorecard: card,
      bureau,
      amountMinor,
      averageMonthlyInflowMinor: activity.inflowsMinor / 3n,
      productMaxMinor: BigInt(terms?.max_amount_minor ?? application.amountMinor),
      exponent,
    });
    const row: ResultRow = {
      id: uuidv7(),
      applicationId,
      customerId,
      internalScore: card.score,
      internalMaxScore: card.max_score,
      factors: card.factors,
      bureauStatus: bureau.status,
      bureauScore: bureau.status === 'ok' ? bureau.score : null,
      bureauDelinquencyCode: bureau.status === 'ok' ? bureau.delinquencyCode : null,
      bureauDelinquencySummary: bureau.status === 'ok' ? bureau.delinquencySummary : null,
      bureauError: bureauError(bureau),
      finalScore: policy.final_score,
      decision: policy.decision,
      recommendedLimitMinor: policy.recommended_limit_minor,
      currency,
      reasons: policy.reasons,
      scoredByType: context.actor.type,
      scoredById: context.actor.id,
      createdAt: now,
    };
    await inTransaction(this.#db, async (tx) => {
      await tx.insert(loanScoringResults).values(row);
      await tx
        .update(loanApplications)
        .set({
          scoringResultId: row.id,
          decision: row.decision,
          recommendedLimitMinor: row.recommendedLimitMinor,
          updatedAt: now,
        })
        .where(eq(loanApplications.id, applicationId));
      await writeAudit(tx, context, {
        action: 'loan_scoring.result_recorded',
        entityType: 'loan_scoring_result',
        entityId: row.id,
        after: {
          application_id: applicationId,
          decision: row.decision,
          final_score: row.finalScore,
          bureau_status: row.bureauStatus,
        },
      });
    });
    return scoringResultView(row);
  }

  async get(id: string): Promise<ScoringResultView> {
    const [row] = await this.#db
      .select()
      .from(loanScoringResults)
      .where(eq(loanScoringResults.id, id))
      .limit(1);
    if (!row) throw commonErrors.notFound('Scoring result');
    return scoringResultView(row);
  }

  /** Newest first; of one application when given. */
  async list(query: { application_id?: string; limit?: number; cursor?: string }) {
    const limit = query.limit ?? 20;
    const position = decodeCursor(query.cursor, ['id'] as const);
    const rows = await this.#db
      .select()
      .from(loanScoringResults)
      .where(
        and(
          query.application_id ? eq(loanScoringResults.applicationId, query.application_id) : undefined,
          position ? lt(loanScoringResults.id, position.id) : undefined,
        ),
      )
      .orderBy(desc(loanScoringResults.id))
      .limit(limit + 1);
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    return { items: page.items.map(scoringResultView), next_cursor: page.next_cursor };
  }

  async #terms(productId: string, version: number) {
    const [row] = await this.#db
      .select({ terms: loanProductVersions.terms })
      .from(loanProductVersions)
      .where(and(eq(loanProductVersions.productId, productId), eq(loanProductVersions.version, version)))
      .limit(1);
    return row?.terms;
  }

  /** Both reports at once; any failure becomes the outcome the policy reads (never a made-up answer). */
  async #askBureau(
    document: { type: string; number: string } | null,
    amountMinor: bigint,
    exponent: number,
  ): Promise<BureauOutcome> {
    const bureau = this.#options.bureau;
    if (!bureau) return { status: 'not_configured' };
    const type = document ? METROPOL_TYPES[document.type] : undefined;
    if (!document || !type) return { status: 'no_identity' };
    const unit = 10n ** BigInt(exponent);
    const wholeUnits = Number((amountMinor + unit - 1n) / unit);
    try {
      const [score, delinquency] = await Promise.all([
        bureau.consumerScore(document.number, type),
        bureau.delinquencyStatus(document.number, type, wholeUnits),
      ]);
      return {
        status: 'ok',
        score: score.creditScore,
        delinquencyCode: delinquency.delinquencyCode,
        delinquencySummary: delinquency.delinquencySummary,
      };
    } catch (error) {
      if (error instanceof MetropolError)
        return { status: 'error', code: error.apiCode, message: error.description };
      if (error instanceof DependencyUnavailableError) {
        const cause = error.cause instanceof Error ? error.cause.message : String(error.cause);
        return { status: isTimeout(error.cause) ? 'timeout' : 'unavailable', message: cause };
      }
      throw error;
    }
  }
}

function bureauError(outcome: BureauOutcome): string | null {
  if (outcome.status === 'error') return `${outcome.code ?? 'no code'}: ${outcome.message}`.slice(0, 500);
  if (outcome.status === 'timeout' || outcome.status === 'unavailable') return outcome.message.slice(0, 500);
  return null;
}
