/**
 * The seams between the AML module's areas. Each area lives in its own files (`aml.<area>*.ts`) and meets the others
 * only through these interfaces, wired in index.ts. The areas:
 * - cases: alerts (the AlertSink every other area raises through), cases, SLA, decisions, wallet restriction.
 * - reports: goAML STR and CTR XML, validated against the schema in the repository.
 * - risk: customer risk rating (factors, weights, bands, enhanced due diligence).
 * - screening: sanctions and PEP lists (UN XML, OFAC CSV, OpenSanctions JSON lines), fuzzy name matching, the
 *   onboarding module's ScreeningPort, screening points, rescreening after a list change.
 * - realtime: rules as data (versioned, test mode), incremental aggregates, the payment engine's PaymentScreen
 *   (allow, review, block), held payments' release and rejection.
 * - scenarios: AML's record of each payment (`aml_payment_facts`) and the post-posting typologies.
 */
import type { RequestContext } from '../../platform/audit.ts';
import type { Executor } from '../../platform/db.ts';
import type {
  AlertEvidence,
  AlertPriority,
  AlertSource,
  CaseDecision,
  RiskBand,
  RiskFactor,
  ScreeningMatch,
  ScreeningOutcome,
  ScreeningSubjectKind,
} from './aml.tables.ts';

export interface AlertInput {
  source: AlertSource;
  /** The rule or scenario code, or `screening`, `risk_high`, `review_sla` …: one case per customer and pattern. */
  pattern: string;
  ruleVersion?: number | null;
  priority: AlertPriority;
  customerId?: string | null;
  agentId?: string | null;
  evidence: AlertEvidence;
  /** Raising the same key twice adds nothing (a scenario re-run, an event delivered twice). */
  dedupeKey?: string | null;
}

export interface RaisedAlert {
  alertId: string;
  caseId: string;
}

/** Implemented by the cases area; every other area raises alerts through it, inside its own transaction. */
export interface AlertSink {
  /** Null when `dedupeKey` was raised already. */
  raise(tx: Executor, alert: AlertInput): Promise<RaisedAlert | null>;
}

/** Implemented by the reports area: what the cases area calls when an analyst decides to file an STR. */
export interface ReportWriter {
  /** Builds and validates the goAML STR for a case (its alerts' transactions); returns the report's id. */
  strForCase(tx: Executor, caseId: string, context: RequestContext): Promise<string>;
}

export interface RiskRating {
  customerId: string;
  score: number;
  band: RiskBand;
  pep: boolean;
  factors: RiskFactor[];
  computedAt: Date;
}

/** Implemented by the risk area: the realtime rules read a customer's band; cases read it for four-eyes. */
export interface RiskReader {
  /** The current rating (null when never rated: the rules treat it as `low`). Cached briefly per node. */
  ratingOf(customerId: string): Promise<RiskRating | null>;
  /** Recomputes now (a staff request, an event, a screening result). */
  recompute(customerId: string, trigger: string): Promise<RiskRating>;
}

export interface ScreeningRequest {
  kind: ScreeningSubjectKind;
  subjectId?: string | null;
  name: string;
  /** ISO date (or year). */
  birthDate?: string | null;
  /** ISO 3166 alpha-2. */
  nationality?: string | null;
  trigger: string;
  /** Customer to raise the alert for, when the subject is one (or belongs to one). */
  customerId?: string | null;
  agentId?: string | null;
}

export interface ScreeningRecord {
  id: string;
  outcome: ScreeningOutcome;
  bestScore: number;
  matches: ScreeningMatch[];
}

/** Implemented by the screening area. */
export interface Screener {
  /** Screens, records the screening, raises an alert by score band; never throws for a clean name. */
  screen(request: ScreeningRequest): Promise<ScreeningRecord>;
  /** True when the latest screening of the customer matched a PEP entry at or above the review band. */
  isPep(customerId: string): Promise<boolean>;
}

/** The cases area's decision that the realtime area's held payments and restrictions reuse. */
export type { CaseDecision };
