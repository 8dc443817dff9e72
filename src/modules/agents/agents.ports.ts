/**
 * The seams between the agents module's areas. Each area is a class or a few functions in its own files
 * (`agents.<area>.ts`); they meet only through these interfaces, wired in index.ts. The areas:
 * - network: agents, stores, operators, lifecycle (maker-checker, suspension, closure), geofence editing (staff).
 * - auth: the `agent_operator` principal: sign-in (PIN on a bound device; password + second factor for admins), scope.
 * - geo: geofence maths and the location guard (every operator money action, check-in/out, spoofing, alerts).
 * - float: float accounts, bank-deposit top-ups, rebalancing, positions.
 * - cash: cash-in, cash-out (withdrawal code or customer approval), agent limits.
 * - commissions: plans, accrual inside the posting, payouts, clawback, performance.
 */
import type { RequestContext } from '../../platform/audit.ts';
import type { Executor } from '../../platform/db.ts';
import type { Principal } from '../../platform/http.ts';
import type { Leg } from '../ledger/index.ts';
import type {
  agentCommissionPlans,
  agentOperators,
  agentStores,
  agents,
  OperatorRole,
} from './agents.tables.ts';

export type AgentRow = typeof agents.$inferSelect;
export type StoreRow = typeof agentStores.$inferSelect;
export type OperatorRow = typeof agentOperators.$inferSelect;
export type CommissionPlanRow = typeof agentCommissionPlans.$inferSelect;

/** The transaction types the agents module records (declared in its defineModule). */
export const AGENT_TRANSACTION_TYPES = [
  'cash_in',
  'cash_out',
  'float_topup',
  'float_transfer',
  'commission_payout',
] as const;
export type AgentTransactionType = (typeof AGENT_TRANSACTION_TYPES)[number];

/** Who a signed-in operator is and where they work: every operator route starts from this. */
export interface OperatorScope {
  operatorId: string;
  agentId: string;
  /** The teller's store; null for an agent admin (every store of the agent). */
  storeId: string | null;
  role: OperatorRole;
}

/** Resolves the scope of an `agent_operator` principal (403 for any other principal; 404 for a closed operator). */
export interface OperatorScopes {
  scopeOf(principal: Principal): Promise<OperatorScope>;
}

/** What the device reports with every operator money action (and check-in/out). */
export interface DeviceLocation {
  lat: number;
  lon: number;
  /** Reported horizontal accuracy, metres (68 % radius). */
  accuracy_m: number;
  /** When the fix was taken (ISO 8601). */
  fix_at: string;
  /** The app's flag: the OS reports a mock-location provider. */
  mock_location?: boolean;
}

export interface LocationDecision {
  checkId: string;
  decision: 'allowed' | 'flagged';
}

/** A clean geofence check's row, as the action's transaction writes it (linked to the transaction). */
export interface PendingCheckRow {
  id: string;
  operatorId: string;
  agentId: string;
  storeId: string;
  action: string;
  latitude: number;
  longitude: number;
  accuracyM: number;
  fixAt: Date;
  distanceM: number;
  outcome: string;
  decision: 'allowed';
  signals: string[];
  checkedAt: Date;
}

/** A geofence check evaluated but not yet written (`LocationGuard.checkForAction`). */
export interface PendingCheck {
  /** The row the action's transaction writes, linked to it. */
  row: PendingCheckRow;
  /** Writes the check alone (the action failed): every check is kept. */
  keep(): Promise<void>;
}

/**
 * The geofence check of one operator action. It is recorded in its own short transaction (so a refusal is kept),
 * raises alerts on repeated violations and spoofing signals, and throws GEOFENCE_VIOLATION when the agent's policy
 * refuses. A money action links its transaction to the check afterwards — or, through `checkForAction`, writes a
 * clean check (inside, no signal) in its own transaction (ADR 0028, Speed).
 */
export interface LocationGuard {
  check(input: {
    scope: OperatorScope;
    storeId: string;
    action: string;
    location: DeviceLocation;
    /** The operator's agent and store when the caller has just read and checked them (not read again). */
    known?: { agent: AgentRow; store: StoreRow };
  }): Promise<LocationDecision>;
  /**
   * `check` for a money action that posts right after: a fix inside the fence with no spoofing signal is not
   * written here but handed back (`pending`) for the action's own transaction to write, linked; any other goes
   * through `check`. The caller keeps a pending check alone when its action fails.
   */
  checkForAction(input: {
    scope: OperatorScope;
    storeId: string;
    action: string;
    location: DeviceLocation;
    /** The operator's agent and store as just read; with the operator's last fix when it was read with them. */
    known: { agent: AgentRow; store: StoreRow; lastFix?: OperatorCounter['lastFix'] };
  }): Promise<LocationDecision & { pending: PendingCheck | null }>;
  linkTransaction(executor: Executor, checkId: string, transactionId: string): Promise<void>;
}

/** The network's reads that the other areas need (rows as stored; active checks throw the area's errors). */
export interface AgentDirectory {
  agent(id: string, executor?: Executor): Promise<AgentRow>;
  store(id: string, executor?: Executor): Promise<StoreRow>;
  operator(id: string, executor?: Executor): Promise<OperatorRow>;
  /** The store an operator acts at: the teller's own, or (agent admin) one of the agent's, named. 404 otherwise. */
  storeFor(scope: OperatorScope, storeId?: string | null): Promise<StoreRow>;
  /** Throws AGENT_NOT_ACTIVE (403) unless the agent, its super-agent (if any) and the store are active. */
  assertOperational(agent: AgentRow, store?: StoreRow | null): Promise<void>;
  /**
   * An operator's money action's counter in one read: `scopeOf`'s refusals, the permission (403), the store the
   * operator acts at (`storeFor`'s 404s), agent, super-agent and store operational (`assertOperational`'s 403), and
   * the operator's last fix.
   */
  operatorCounter(principal: Principal, storeId: string | null, permission: string): Promise<OperatorCounter>;
}

/** What `AgentDirectory.operatorCounter` reads: the scope, the operational agent and store, the last fix. */
export interface OperatorCounter {
  scope: OperatorScope;
  agent: AgentRow;
  store: StoreRow;
  lastFix: { lat: number; lon: number; accuracyM: number; fixAt: Date } | null;
}

/** A commission for one cash-in or cash-out: the legs posted with it and the accrual rows to write. */
export interface CommissionQuote {
  /** The transaction's currency (the accrual rows are in it). */
  currency: string;
  legs: Leg[];
  accruals: { agentId: string; sourceAgentId: string; amount: bigint }[];
}

export interface CommissionPort {
  /** Null when the agent's plan pays nothing for this type and amount. */
  quote(
    agent: AgentRow,
    type: AgentTransactionType,
    amount: bigint,
    currency: string,
  ): Promise<CommissionQuote | null>;
  /** Writes the accrual rows inside the posting's transaction. */
  record(
    tx: Executor,
    transactionId: string,
    type: AgentTransactionType,
    quote: CommissionQuote,
  ): Promise<void>;
}

/**
 * What the cash area recorded, for performance (commissions area): completed cash-ins and cash-outs of an agent's
 * stores in [from, to). Optional: without it performance counts only what the agents module's own rows show.
 */
export interface AgentActivityReads {
  /** By UTC day (`2026-12-07`) and type: how many and their total value (minor units). */
  dailyVolumes(
    agentId: string,
    from: Date,
    to: Date,
  ): Promise<{ day: string; type: AgentTransactionType; count: number; value: bigint }[]>;
  /** How many distinct customers the agent's stores served. */
  customersServed(agentId: string, from: Date, to: Date): Promise<number>;
}

export type { RequestContext };
