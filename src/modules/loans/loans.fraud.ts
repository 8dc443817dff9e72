/**
 * The fraud check of a loan application (the pipeline's FraudChecker): what other modules' services and the
 * phone-ownership provider say is read first, outside any transaction (`prepare`); then every enabled rule runs inside
 * the caller's transaction on that and on `tx` alone, the check is stored with the applicant's identifiers and each rule's evidence, the score (the sum of
 * the tripped rules' weights) goes on the application, and a score at or above the product version's
 * `fraud_threshold` opens a fraud flag (one undecided flag per application). Staff re-run it, and manage the rules.
 */
import { and, asc, eq, inArray } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { Principal } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { toJsonSafe } from '../../platform/json.ts';
import { emitEvent } from '../../platform/outbox.ts';
import { loansErrors } from './loans.errors.ts';
import { loanApplicationDecided } from './loans.events.ts';
import { FraudCases } from './loans.fraud.cases.ts';
import { DenyList } from './loans.fraud.denylist.ts';
import { type ApplicationFacts, paramsProblem, RULES } from './loans.fraud.rules.ts';
import type { FraudSources } from './loans.fraud.sources.ts';
import {
  FRAUD_RULE_CODES,
  type FraudRuleCode,
  loanFraudChecks,
  loanFraudFlags,
  loanFraudResults,
  loanFraudRules,
} from './loans.fraud.tables.ts';
import type { FraudChecker, FraudOutcome, FraudPrefetch } from './loans.ports.ts';
import { loanApplications, loanProductVersions, loans } from './loans.tables.ts';

type RuleRow = typeof loanFraudRules.$inferSelect;
type ResultRow = typeof loanFraudResults.$inferSelect;

/** Applications a check may run on; an approved one only until its loan is disbursed. */
const CHECKABLE = new Set(['submitted', 'flagged', 'referred', 'approved']);
/** Applications a new flag moves to `flagged` (the pipeline does it itself on submission). */
const FLAGGABLE = new Set(['submitted', 'referred']);

export function ruleView(row: RuleRow) {
  return {
    code: row.code,
    description: row.description,
    enabled: row.enabled,
    weight: row.weight,
    params: row.params,
    updated_by_id: row.updatedById,
    updated_at: row.updatedAt.toISOString(),
  };
}

export function resultView(row: ResultRow) {
  return {
    rule: row.ruleCode,
    tripped: row.tripped,
    weight: row.weight,
    score: row.score,
    evidence: row.evidence,
  };
}

export interface CheckDetail extends FraudOutcome {
  application_id: string;
  application_status: string;
  results: ReturnType<typeof resultView>[];
  created_at: string;
}

/** Sends a cleared application on to scoring: `applications.continueAfterFraud`, wired in index.ts. */
export type ContinueAfterFraud = (applicationId: string, context: RequestContext) => Promise<unknown>;

export class FraudService implements FraudChecker {
  readonly #db: Executor;
  readonly #sources: FraudSources;
  readonly cases: FraudCases;
  readonly denyList: DenyList;
  #continueAfterFraud: ContinueAfterFraud | null = null;

  constructor(db: Executor, sources: FraudSources) {
    this.#db = db;
    this.#sources = sources;
    this.denyList = new DenyList(db, sources);
    this.cases = new FraudCases(db, this.denyList, async (id, context) => {
      await this.#continueAfterFraud?.(id, context);
    });
  }

  /** What a cleared flag calls after its decision commits (the applications area's continuation). */
  onCleared(next: ContinueAfterFraud): void {
    this.#continueAfterFraud = next;
  }

  /**
   * Reads, never inside a transaction, what the rules need from services on their own connections (devices, wallet,
   * KYC decisions) and the provider's answer for the customer's phone (an HTTP call).
   */
  async prepare(customerId: string, currency: string): Promise<FraudPrefetch> {
    const sources = this.#sources;
    const devices = await sources.devices(customerId);
    const walletId = await sources.walletId(customerId, currency);
    const kycApprovals = await sources.kycApprovals(customerId);
    let ownership: FraudPrefetch['ownership'] = null;
    if (sources.phoneOwnership) {
      const phone = await sources.primaryPhone(this.#db, customerId);
      if (phone)
        ownership = {
          phone,
          result: await sources.phoneOwnership(phone, await sources.names(this.#db, customerId)),
        };
    }
    return { customerId, currency, devices, walletId, kycApprovals, ownership };
  }

  async check(
    tx: Executor,
    applicationId: string,
    context: RequestContext,
    prefetched: FraudPrefetch,
  ): Promise<FraudOutcome> {
    const { check_id, score, threshold, flagged, flag_id } = await this.#run(
      tx,
      applicationId,
      context,
      prefetched,
    );
    return { check_id, score, threshold, flagged, flag_id };
  }

  /** `/fraud/check`: runs the check again; a new flag moves a submitted or referred application to `flagged`. */
  async recheck(applicationId: string, context: RequestContext): Promise<CheckDetail> {
    const [found] = await this.#db
      .select({ customerId: loanApplications.customerId, currency: loanApplications.currency })
      .from(loanApplications)
      .where(eq(loanApplications.id, applicationId))
      .limit(1);
    if (!found) throw loansErrors.LOAN_APPLICATION_NOT_FOUND();
    const prefetched = await this.prepare(found.customerId, found.currency);
    return inTransaction(this.#db, async (tx) => {
      const detail = await this.#run(tx, applicationId, context, prefetched);
      if (detail.flagged && FLAGGABLE.has(detail.application_status)) {
        const [row] = await tx
          .update(loanApplications)
          .set({ status: 'flagged', updatedAt: new Date() })
          .where(eq(loanApplications.id, applicationId))
          .returning();
        await emitEvent(
          tx,
          loanApplicationDecided,
          { type: 'loan_application', id: applicationId },
          {
            application_id: applicationId,
            number: row!.number,
            customer_id: row!.customerId,
            status: 'flagged',
            reasons: [],
          },
        );
        detail.application_status = 'flagged';
      }
      return detail;
    });
  }

  async #run(
    tx: Executor,
    applicationId: string,
    context: RequestContext,
    prefetched: FraudPrefetch,
  ): Promise<CheckDetail> {
    const [application] = await tx
      .select()
      .from(loanApplications)
      .where(eq(loanApplications.id, applicationId))
      .for('update')
      .limit(1);
    if (!application) throw loansErrors.LOAN_APPLICATION_NOT_FOUND();
    if (prefetched.customerId !== application.customerId || prefetched.currency !== application.currency)
      throw new Error(`fraud prefetch for another customer or currency than application ${application.id}`);
    await this.#assertCheckable(tx, application);
    const [version] = await tx
      .select({ terms: loanProductVersions.terms })
      .from(loanProductVersions)
      .where(
        and(
          eq(loanProductVersions.productId, application.productId),
          eq(loanProductVersions.version, application.productVersion),
        ),
      )
      .limit(1);
    if (!version) throw loansErrors.LOAN_PRODUCT_NOT_FOUND();
    const threshold = version.terms.fraud_threshold;
    const facts: ApplicationFacts = application;
    const identifiers = {
      nationalIdIndex: await this.#sources.nationalIdIndex(tx, application.customerId),
      phone: await this.#sources.primaryPhone(tx, application.customerId),
      deviceId: application.deviceId,
    };
    const rules = await this.rules(tx);
    const now = new Date();
    const results: ResultRow[] = [];
    const checkId = uuidv7();
    for (const rule of rules) {
      if (!rule.enabled) continue;
      const input = {
        tx,
        application: facts,
        identifiers,
        params: rule.params,
        sources: this.#sources,
        prefetched,
        now,
      };
      const outcome = await RULES[rule.code].run(input);
      results.push({
        checkId,
        ruleCode: rule.code,
        tripped: outcome.tripped,
        weight: rule.weight,
        score: outcome.tripped ? rule.weight : 0,
        evidence: toJsonSafe(outcome.evidence) as Record<string, unknown>,
      });
    }
    const score = results.reduce((sum, result) => sum + result.score, 0);
    const flagged = score > 0 && score >= threshold;
    const flagId = flagged ? await this.#flag(tx, application.id, checkId, score, threshold) : null;
    const [check] = await tx
      .insert(loanFraudChecks)
      .values({
        id: checkId,
        applicationId: application.id,
        customerId: application.customerId,
        score,
        threshold,
        flagged,
        flagId,
        ...identifiers,
        actorType: context.actor.type,
        actorId: context.actor.id,
        createdAt: now,
      })
      .returning();
    if (results.length > 0) await tx.insert(loanFraudResults).values(results);
    await tx
      .update(loanApplications)
      .set({ fraudScore: score, updatedAt: now })
      .where(eq(loanApplications.id, application.id));
    await writeAudit(tx, context, {
      action: 'loan.fraud_checked',
      entityType: 'loan_application',
      entityId: application.id,
      after: {
        check_id: checkId,
        score,
        threshold,
        flagged,
        flag_id: flagId,
        tripped: results.filter((result) => result.tripped).map((result) => result.ruleCode),
      },
    });
    return {
      check_id: checkId,
      application_id: application.id,
      application_status: application.status,
      score,
      threshold,
      flagged,
      flag_id: flagId,
      results: results.map(resultView),
      created_at: check!.createdAt.toISOString(),
    };
  }

  async #assertCheckable(tx: Executor, application: typeof loanApplications.$inferSelect): Promise<void> {
    let allowed = CHECKABLE.has(application.status);
    if (allowed && application.status === 'approved') {
      const [loan] = await tx
        .select({ status: loans.status })
        .from(loans)
        .where(eq(loans.applicationId, application.id))
        .limit(1);
      allowed = !loan || loan.status === 'approved';
    }
    if (!allowed)
      throw loansErrors.LOAN_FRAUD_CHECK_NOT_ALLOWED({
        params: { number: application.number, status: application.status },
        details: { status: application.status },
      });
  }

  /** The application's undecided flag, or a new one. */
  async #flag(tx: Executor, applicationId: string, checkId: string, score: number, threshold: number) {
    const [open] = await tx
      .select({ id: loanFraudFlags.id })
      .from(loanFraudFlags)
      .where(
        and(
          eq(loanFraudFlags.applicationId, applicationId),
          inArray(loanFraudFlags.status, ['open', 'investigating']),
        ),
      )
      .limit(1);
    if (open) return open.id;
    const id = uuidv7();
    await tx.insert(loanFraudFlags).values({ id, applicationId, checkId, score, threshold, status: 'open' });
    return id;
  }

  /** Every rule, in the order they run (a rule missing from the table runs with its defaults). */
  async rules(executor: Executor = this.#db): Promise<RuleRow[]> {
    const rows = await executor.select().from(loanFraudRules).orderBy(asc(loanFraudRules.code));
    const byCode = new Map(rows.map((row) => [row.code, row]));
    return FRAUD_RULE_CODES.map(
      (code) =>
        byCode.get(code) ?? {
          code,
          description: RULES[code].description,
          enabled: true,
          weight: RULES[code].weight,
          params: RULES[code].params,
          updatedById: null,
          createdAt: new Date(0),
          updatedAt: new Date(0),
        },
    );
  }

  async listRules() {
    return { items: (await this.rules()).map(ruleView) };
  }

  updateRule(
    principal: Principal,
    input: { code: FraudRuleCode; enabled?: boolean; weight?: number; params?: Record<string, unknown> },
    context: RequestContext,
  ) {
    return inTransaction(this.#db, async (tx) => {
      const current = (await this.rules(tx)).find((rule) => rule.code === input.code)!;
      const params = { ...current.params, ...(input.params ?? {}) };
      const problem = paramsProblem(input.code, params);
      if (problem)
        throw loansErrors.LOAN_FRAUD_RULE_PARAMS({
          params: { code: input.code, problem: problem.problem },
          details: { field: `body.params.${problem.field}` },
        });
      const values = {
        description: current.description,
        enabled: input.enabled ?? current.enabled,
        weight: input.weight ?? current.weight,
        params,
        updatedById: principal.id,
        updatedAt: new Date(),
      };
      const [row] = await tx
        .insert(loanFraudRules)
        .values({ code: input.code, ...values })
        .onConflictDoUpdate({ target: loanFraudRules.code, set: values })
        .returning();
      await writeAudit(tx, context, {
        action: 'loan.fraud_rule_updated',
        entityType: 'loan_fraud_rule',
        entityId: input.code,
        before: { enabled: current.enabled, weight: current.weight, params: current.params },
        after: { enabled: row!.enabled, weight: row!.weight, params: row!.params },
      });
      return ruleView(row!);
    });
  }
}

/** The default rules (idempotent: existing rows, possibly changed by staff, stay as they are). */
export async function seedFraudRules(db: Executor): Promise<void> {
  const rows = FRAUD_RULE_CODES.map((code) => ({
    code,
    description: RULES[code].description,
    enabled: true,
    weight: RULES[code].weight,
    params: RULES[code].params,
  }));
  await db.insert(loanFraudRules).values(rows).onConflictDoNothing();
}
