/**
 * The agent network (staff back office and agent admins): agents (super-agents and agents), their stores and
 * operators, the lifecycle (maker-checker activation, suspension, closure), devices and geofence editing. It is also
 * the `AgentDirectory` the other areas read agents, stores and operators through.
 *
 * Every agent and store has its float account on the ledger (a liability with `debitsMustNotExceedCredits`: the
 * ledger itself refuses a negative float); every agent a commission payable account (a liability, guarded the same
 * way, `deferred` so accruals from many parallel postings append deltas instead of locking the row).
 */
import { and, eq, isNull } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { hashPassword, keyedHash } from '../../platform/crypto.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { decodeCursor, type Principal, paginate } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { currencyInfo } from '../../platform/money.ts';
import type { ApprovalService } from '../approvals/index.ts';
import { customerStanding, normalisePhone, pinVerdict } from '../customers/index.ts';
import { DEVICE_ID_PATTERN, passwordProblems } from '../identity/index.ts';
import type { LedgerService } from '../ledger/index.ts';
import { parseOperatorDeviceKey } from './agents.auth.keys.ts';
import { agentsErrors as codes } from './agents.errors.ts';
import {
  activeDevice,
  devicesOf,
  findAgent,
  findOperator,
  findOperatorCounter,
  findStore,
  listAgents,
  listOperators,
  listStores,
  newNumber,
  openChildren,
  storesOf,
  violatedConstraint,
} from './agents.network.repository.ts';
import type {
  AgentDirectory,
  AgentRow,
  OperatorCounter,
  OperatorRow,
  OperatorScope,
  StoreRow,
} from './agents.ports.ts';
import {
  type AgentKind,
  type AgentLimits,
  agentCommissionPlans,
  agentOperatorDevices,
  agentOperators,
  agentStores,
  agents,
  type Geofence,
  type GeofencePolicy,
  type OpeningHours,
  type OperatorRole,
} from './agents.tables.ts';

/** An agent and store read together, both operational (AGENT_NOT_ACTIVE otherwise), or 404 without the store. */
function operational(
  row: { agent: AgentRow; store: StoreRow | null; parentStatus: string | null } | undefined,
): { agent: AgentRow; store: StoreRow } {
  if (!row?.store) throw networkErrors.storeNotFound();
  const { agent, store } = row;
  if (agent.status !== 'active') throw networkErrors.notActive(`agent ${agent.status}`);
  if (agent.parentId && row.parentStatus !== 'active')
    throw networkErrors.notActive(`super-agent ${row.parentStatus ?? 'missing'}`);
  if (store.status !== 'active') throw networkErrors.notActive(`store ${store.status}`);
  return { agent, store };
}

export const ACTIVATE_AGENT_ACTION = 'agent.activate';
export interface ActivatePayload {
  agent_id: string;
}

/** A 6-digit operator PIN (tellers). */
export const OPERATOR_PIN_PATTERN = /^\d{6}$/;
const MAX_RADIUS_M = 50_000;
const MAX_VERTICES = 50;

export const networkErrors = {
  agentNotFound: () => codes.AGENT_NOT_FOUND(),
  storeNotFound: () => codes.AGENT_STORE_NOT_FOUND(),
  operatorNotFound: () => codes.AGENT_OPERATOR_NOT_FOUND(),
  notActive: (status: string) => codes.AGENT_NOT_ACTIVE({ params: { status }, details: { status } }),
  statusConflict: (action: string, status: string) =>
    codes.AGENT_STATUS_CONFLICT({ params: { action, status }, details: { action, status } }),
  ownerNotEligible: () => codes.AGENT_OWNER_NOT_ELIGIBLE(),
  parentInvalid: (reason: string) => codes.AGENT_PARENT_INVALID({ params: { reason }, details: { reason } }),
  registrationExists: () => codes.AGENT_REGISTRATION_EXISTS(),
  currency: (currency: string) => codes.AGENT_CURRENCY_UNSUPPORTED({ params: { currency } }),
  geofence: (reason: string) => codes.AGENT_GEOFENCE_INVALID({ params: { reason }, details: { reason } }),
  phoneExists: () => codes.AGENT_OPERATOR_PHONE_EXISTS(),
  operatorInvalid: (reason: string) =>
    codes.AGENT_OPERATOR_INVALID({ params: { reason }, details: { reason } }),
  deviceInvalid: (reason: string) => codes.AGENT_DEVICE_INVALID({ params: { reason }, details: { reason } }),
  deviceNotFound: (deviceId: string) =>
    codes.AGENT_DEVICE_NOT_FOUND({ params: { device_id: deviceId }, details: { device_id: deviceId } }),
  floatNotZero: (what: string, balance: bigint) =>
    codes.AGENT_FLOAT_NOT_ZERO({
      params: { what, balance: balance.toString() },
      details: { what, balance_minor: balance.toString() },
    }),
};

/** Checks a store's coordinates and fence (422 AGENT_GEOFENCE_INVALID naming the problem). */
export function assertGeofence(fence: Geofence): void {
  const point = (p: { lat: number; lon: number }, what: string) => {
    if (!Number.isFinite(p.lat) || p.lat < -90 || p.lat > 90)
      throw networkErrors.geofence(`${what} latitude must be in [-90, 90]`);
    if (!Number.isFinite(p.lon) || p.lon < -180 || p.lon > 180)
      throw networkErrors.geofence(`${what} longitude must be in [-180, 180]`);
  };
  if (fence.type === 'circle') {
    point(fence.center, 'the centre’s');
    if (!(fence.radius_m > 0) || fence.radius_m > MAX_RADIUS_M)
      throw networkErrors.geofence('the radius must be above 0 and at most 50 km');
    return;
  }
  if (fence.vertices.length < 3 || fence.vertices.length > MAX_VERTICES)
    throw networkErrors.geofence('a polygon has 3 to 50 vertices');
  fence.vertices.forEach((vertex, index) => {
    point(vertex, `vertex ${index}’s`);
  });
}

function assertCoordinates(lat: number, lon: number): void {
  if (!Number.isFinite(lat) || lat < -90 || lat > 90)
    throw networkErrors.geofence('latitude must be in [-90, 90]');
  if (!Number.isFinite(lon) || lon < -180 || lon > 180)
    throw networkErrors.geofence('longitude must be in [-180, 180]');
}

/** The customers' PIN rules (no repeats, no runs): a guessable teller PIN is refused like a customer's. */
function assertPinStrength(pin: string): void {
  const verdict = pinVerdict(pin);
  if (verdict) throw networkErrors.operatorInvalid(`the PIN ${verdict.reason}`);
}

function phoneOf(value: string): string {
  try {
    return normalisePhone(value);
  } catch {
    throw commonErrors.validation('Invalid phone number', {
      errors: [{ field: 'body.phone', message: 'is not a valid E.164 phone number' }],
    });
  }
}

export function agentView(row: AgentRow) {
  return {
    id: row.id,
    agent_number: row.agentNumber,
    kind: row.kind,
    parent_id: row.parentId,
    business_name: row.businessName,
    registration_number: row.registrationNumber,
    business_tier: row.businessTier,
    owner_customer_id: row.ownerCustomerId,
    phone: row.phone,
    email: row.email,
    currency: row.currency,
    status: row.status,
    status_reason: row.statusReason,
    geofence_policy: row.geofencePolicy,
    limits: row.limits,
    float_account_id: row.floatAccountId,
    commission_account_id: row.commissionAccountId,
    commission_plan_id: row.commissionPlanId,
    created_by: row.createdBy,
    approved_by: row.approvedBy,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function storeView(row: StoreRow) {
  return {
    id: row.id,
    agent_id: row.agentId,
    store_number: row.storeNumber,
    name: row.name,
    address: row.address,
    opening_hours: row.openingHours,
    lat: row.latitude,
    lon: row.longitude,
    geofence: row.geofence,
    status: row.status,
    status_reason: row.statusReason,
    float_account_id: row.floatAccountId,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export function operatorView(row: OperatorRow, devices: { deviceId: string; boundAt: Date }[] = []) {
  return {
    id: row.id,
    agent_id: row.agentId,
    store_id: row.storeId,
    role: row.role,
    full_name: row.fullName,
    phone: row.phone,
    status: row.status,
    last_login_at: row.lastLoginAt?.toISOString() ?? null,
    devices: devices.map((device) => ({
      device_id: device.deviceId,
      bound_at: device.boundAt.toISOString(),
    })),
    created_at: row.createdAt.toISOString(),
  };
}

export interface CreateAgentInput {
  kind: AgentKind;
  parent_id?: string | null;
  business_name: string;
  registration_number: string;
  business_tier: string;
  owner_customer_id: string;
  phone: string;
  email?: string | null;
  currency: string;
  geofence_policy?: GeofencePolicy;
  limits?: AgentLimits;
  commission_plan_id?: string | null;
}

export interface UpdateAgentInput {
  business_name?: string;
  phone?: string;
  email?: string | null;
  geofence_policy?: GeofencePolicy;
  limits?: AgentLimits;
  commission_plan_id?: string | null;
}

/** Opening hours as the API takes them: by ISO weekday, [open, close] pairs. */
type HoursInput = Partial<Record<keyof OpeningHours, string[][]>>;

export interface CreateStoreInput {
  name: string;
  address: string;
  opening_hours?: HoursInput;
  lat: number;
  lon: number;
  geofence: Geofence;
}

export interface CreateOperatorInput {
  agent_id: string;
  store_id?: string | null;
  role: OperatorRole;
  full_name: string;
  phone: string;
  pin?: string;
  password?: string;
}

/** Keyed hash of an operator's PIN (the customers module's scheme: HMAC with the server pepper, per subject). */
export function operatorPinHash(pepper: string, operatorId: string, pin: string): string {
  return keyedHash(pepper, `agent-pin:${operatorId}`, pin);
}

export interface NetworkDeps {
  db: Executor;
  ledger: LedgerService;
  approvals: ApprovalService;
  pepper: string;
  /** Identity's password rules (length, strength) for agent admins' passwords. */
  passwordPolicy: { minLength: number; maxLength: number; minScore: number; requireComplexity: boolean };
  /** Called when an operator's PIN is reset (the auth area lifts its lock). */
  onPinReset?: (operatorId: string) => Promise<void>;
  /**
   * Called after a commit that suspends, reactivates or closes an agent, a store or an operator: every node drops its
   * cached operator access (identity's principal cache), so the change holds on every node at once.
   */
  onStandingChanged?: () => Promise<void>;
}

/** Empties an agent's floats and commission payable into its owner's wallet before a close (the money areas). */
export interface ClosureSweeper {
  sweep(agent: AgentRow, stores: StoreRow[], context: RequestContext): Promise<void>;
}

export class AgentNetwork implements AgentDirectory {
  readonly #deps: NetworkDeps;
  #sweeper: ClosureSweeper | null = null;

  /** The money areas are built after the network (they read agents through it): index.ts connects the sweep. */
  connectSweeper(sweeper: ClosureSweeper): void {
    this.#sweeper = sweeper;
  }

  constructor(deps: NetworkDeps) {
    this.#deps = deps;
  }

  get #db(): Executor {
    return this.#deps.db;
  }

  // --- AgentDirectory -------------------------------------------------------------------------------------------

  async agent(id: string, executor: Executor = this.#db): Promise<AgentRow> {
    const row = await findAgent(executor, id);
    if (!row) throw networkErrors.agentNotFound();
    return row;
  }

  async store(id: string, executor: Executor = this.#db): Promise<StoreRow> {
    const row = await findStore(executor, id);
    if (!row) throw networkErrors.storeNotFound();
    return row;
  }

  async operator(id: string, executor: Executor = this.#db): Promise<OperatorRow> {
    const row = await findOperator(executor, id);
    if (!row) throw networkErrors.operatorNotFound();
    return row;
  }

  async storeFor(scope: OperatorScope, storeId?: string | null): Promise<StoreRow> {
    const id = storeId ?? scope.storeId;
    if (!id) throw networkErrors.storeNotFound();
    // A teller acts only at their own store; an admin at any store of their agent. Anything else is a 404.
    if (scope.storeId && scope.storeId !== id) throw networkErrors.storeNotFound();
    const store = await findStore(this.#db, id);
    if (!store || store.agentId !== scope.agentId) throw networkErrors.storeNotFound();
    return store;
  }

  async operatorCounter(
    principal: Principal,
    storeId: string | null,
    permission: string,
  ): Promise<OperatorCounter> {
    // scopeOf's refusals, the permission, then storeFor's and assertOperational's: one read (status read live).
    if (principal.type !== 'agent_operator') throw codes.AGENT_SCOPE_REQUIRED();
    if (!principal.permissions.has(permission)) throw commonErrors.forbidden();
    const row = await findOperatorCounter(this.#db, principal.id, storeId);
    if (!row || row.operator.status === 'closed') throw codes.AGENT_OPERATOR_NOT_FOUND();
    const { operator } = row;
    const scope = {
      operatorId: operator.id,
      agentId: operator.agentId,
      storeId: operator.storeId,
      role: operator.role,
    };
    this.#storeIdFor(scope, storeId);
    return { scope, ...operational(row), lastFix: row.lastFix };
  }

  /** The store an operator acts at: the one named or the teller's own; a teller acts only at their own (404). */
  #storeIdFor(scope: OperatorScope, storeId?: string | null): string {
    const id = storeId ?? scope.storeId;
    if (!id) throw networkErrors.storeNotFound();
    if (scope.storeId && scope.storeId !== id) throw networkErrors.storeNotFound();
    return id;
  }

  async assertOperational(agent: AgentRow, store?: StoreRow | null): Promise<void> {
    if (agent.status !== 'active') throw networkErrors.notActive(`agent ${agent.status}`);
    if (agent.parentId) {
      const parent = await findAgent(this.#db, agent.parentId);
      if (parent?.status !== 'active')
        throw networkErrors.notActive(`super-agent ${parent?.status ?? 'missing'}`);
    }
    if (store && store.status !== 'active') throw networkErrors.notActive(`store ${store.status}`);
  }

  // --- Agents ---------------------------------------------------------------------------------------------------

  async createAgent(input: CreateAgentInput, context: RequestContext) {
    try {
      currencyInfo(input.currency);
    } catch {
      throw networkErrors.currency(input.currency);
    }
    const owner = await customerStanding(this.#db, input.owner_customer_id);
    if (!owner || owner.erasedAt || owner.status !== 'active') throw networkErrors.ownerNotEligible();
    if (input.kind === 'super_agent' && input.parent_id)
      throw networkErrors.parentInvalid('a super-agent has no parent');
    if (input.parent_id) {
      const parent = await findAgent(this.#db, input.parent_id);
      if (parent?.kind !== 'super_agent' || parent.status === 'closed')
        throw networkErrors.parentInvalid('the parent must be an existing super-agent that is not closed');
      if (parent.currency !== input.currency)
        throw networkErrors.parentInvalid('the parent works in another currency');
    }
    if (input.commission_plan_id) await this.#assertPlan(input.commission_plan_id);
    const phone = phoneOf(input.phone);
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await inTransaction(this.#db, async (tx) => {
          const id = uuidv7();
          const number = newNumber('A');
          const float = await this.#deps.ledger.createAccount(tx, {
            name: `Agent float ${number}`,
            currency: input.currency,
            kind: 'liability',
            debitsMustNotExceedCredits: true,
          });
          const commission = await this.#deps.ledger.createAccount(tx, {
            name: `Agent commission payable ${number}`,
            currency: input.currency,
            kind: 'liability',
            debitsMustNotExceedCredits: true,
            deferred: true,
          });
          const [row] = await tx
            .insert(agents)
            .values({
              id,
              agentNumber: number,
              kind: input.kind,
              parentId: input.parent_id ?? null,
              businessName: input.business_name.trim(),
              registrationNumber: input.registration_number.trim(),
              businessTier: input.business_tier,
              ownerCustomerId: input.owner_customer_id,
              phone,
              email: input.email ?? null,
              currency: input.currency,
              status: 'pending',
              geofencePolicy: input.geofence_policy ?? 'refuse',
              limits: input.limits ?? {},
              floatAccountId: float.id,
              commissionAccountId: commission.id,
              commissionPlanId: input.commission_plan_id ?? null,
              createdBy: context.actor.id,
            })
            .returning();
          const view = agentView(row!);
          await writeAudit(tx, context, {
            action: 'agent.created',
            entityType: 'agent',
            entityId: id,
            after: view,
          });
          return view;
        });
      } catch (error) {
        const constraint = violatedConstraint(error);
        if (constraint === 'agents_registration_key') throw networkErrors.registrationExists();
        if (constraint === 'agents_number_key' && attempt < 5) continue;
        throw error;
      }
    }
  }

  async #assertPlan(planId: string): Promise<void> {
    const [plan] = await this.#db
      .select({ id: agentCommissionPlans.id })
      .from(agentCommissionPlans)
      .where(eq(agentCommissionPlans.id, planId))
      .limit(1);
    if (!plan)
      throw commonErrors.validation('Unknown commission plan', {
        errors: [{ field: 'body.commission_plan_id', message: 'is no commission plan' }],
      });
  }

  /** Activation is always maker-checker: this files the request (a second staff member approves it). */
  async requestActivation(id: string, context: RequestContext) {
    const agent = await this.agent(id);
    if (agent.status !== 'pending') throw networkErrors.statusConflict('activate', agent.status);
    const outcome = await this.#deps.approvals.run<ActivatePayload, ReturnType<typeof agentView>>(
      ACTIVATE_AGENT_ACTION,
      { agent_id: id },
      {
        summary: `Activate agent ${agent.agentNumber} (${agent.businessName})`,
        entityType: 'agent',
        entityId: id,
      },
      context,
      { always: true },
    );
    return outcome;
  }

  /** The approved activation (run by the approvals module as the checker). */
  async executeActivation(payload: ActivatePayload, context: RequestContext) {
    return inTransaction(this.#db, async (tx) => {
      const agent = await findAgent(tx, payload.agent_id, true);
      if (!agent) throw networkErrors.agentNotFound();
      if (agent.status !== 'pending') throw networkErrors.statusConflict('activate', agent.status);
      const [row] = await tx
        .update(agents)
        .set({ status: 'active', approvedBy: context.actor.id, statusReason: null, updatedAt: new Date() })
        .where(eq(agents.id, agent.id))
        .returning();
      const view = agentView(row!);
      await writeAudit(tx, context, {
        action: 'agent.activated',
        entityType: 'agent',
        entityId: agent.id,
        before: { status: agent.status },
        after: { status: 'active' },
      });
      return view;
    });
  }

  async getAgent(id: string) {
    return agentView(await this.agent(id));
  }

  async listAgents(query: {
    kind?: AgentRow['kind'];
    status?: AgentRow['status'];
    parent_id?: string;
    limit?: number;
    cursor?: string;
  }) {
    const limit = query.limit ?? 20;
    const after = decodeCursor(query.cursor, ['id'] as const);
    const rows = await listAgents(this.#db, { ...query, limit }, after?.id ?? null);
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    return { items: page.items.map(agentView), next_cursor: page.next_cursor };
  }

  async updateAgent(id: string, patch: UpdateAgentInput, context: RequestContext) {
    if (patch.commission_plan_id) await this.#assertPlan(patch.commission_plan_id);
    const phone = patch.phone === undefined ? undefined : phoneOf(patch.phone);
    return inTransaction(this.#db, async (tx) => {
      const agent = await findAgent(tx, id, true);
      if (!agent) throw networkErrors.agentNotFound();
      if (agent.status === 'closed') throw networkErrors.statusConflict('update', agent.status);
      const set: Partial<typeof agents.$inferInsert> = { updatedAt: new Date() };
      if (patch.business_name !== undefined) set.businessName = patch.business_name.trim();
      if (phone !== undefined) set.phone = phone;
      if (patch.email !== undefined) set.email = patch.email;
      if (patch.geofence_policy !== undefined) set.geofencePolicy = patch.geofence_policy;
      if (patch.limits !== undefined) set.limits = patch.limits;
      if (patch.commission_plan_id !== undefined) set.commissionPlanId = patch.commission_plan_id;
      const [row] = await tx.update(agents).set(set).where(eq(agents.id, id)).returning();
      const before = agentView(agent);
      const after = agentView(row!);
      await writeAudit(tx, context, {
        action: 'agent.updated',
        entityType: 'agent',
        entityId: id,
        before,
        after,
      });
      return after;
    });
  }

  /** Suspend (active → suspended) or reactivate (suspended → active), with a reason. */
  async setAgentStatus(
    id: string,
    action: 'suspend' | 'reactivate',
    reason: string,
    context: RequestContext,
  ) {
    const from = action === 'suspend' ? 'active' : 'suspended';
    const to = action === 'suspend' ? 'suspended' : 'active';
    const changed = await inTransaction(this.#db, async (tx) => {
      const agent = await findAgent(tx, id, true);
      if (!agent) throw networkErrors.agentNotFound();
      if (agent.status !== from) throw networkErrors.statusConflict(action, agent.status);
      const [row] = await tx
        .update(agents)
        .set({ status: to, statusReason: reason, updatedAt: new Date() })
        .where(eq(agents.id, id))
        .returning();
      await writeAudit(tx, context, {
        action: `agent.${action === 'suspend' ? 'suspended' : 'reactivated'}`,
        entityType: 'agent',
        entityId: id,
        before: { status: agent.status },
        after: { status: to, reason },
      });
      return agentView(row!);
    });
    await this.#deps.onStandingChanged?.();
    return changed;
  }

  /**
   * Closes an agent: zero float on itself and every store and zero commission payable, else AGENT_FLOAT_NOT_ZERO.
   * With `sweep`, the ClosureSweeper first moves the store floats to the agent, pays the commission out and moves the
   * agent's float to the owner's wallet (each its own movement, idempotent on retry), then closes as without.
   */
  async closeAgent(id: string, reason: string, context: RequestContext, sweep = false) {
    if (sweep) {
      const agent = await findAgent(this.#db, id);
      if (!agent) throw networkErrors.agentNotFound();
      if (agent.status === 'closed') throw networkErrors.statusConflict('close', agent.status);
      if (agent.kind === 'super_agent' && (await openChildren(this.#db, id)) > 0)
        throw networkErrors.statusConflict('close a super-agent with open agents', agent.status);
      if (!this.#sweeper) throw new Error('The closure sweep is not connected');
      await this.#sweeper.sweep(agent, await storesOf(this.#db, id), context);
    }
    const changed = await inTransaction(this.#db, async (tx) => {
      const agent = await findAgent(tx, id, true);
      if (!agent) throw networkErrors.agentNotFound();
      if (agent.status === 'closed') throw networkErrors.statusConflict('close', agent.status);
      if (agent.kind === 'super_agent' && (await openChildren(tx, id)) > 0)
        throw networkErrors.statusConflict('close a super-agent with open agents', agent.status);
      const stores = await storesOf(tx, id);
      const floatBalance = (await this.#deps.ledger.balance(agent.floatAccountId, tx)).balance;
      if (floatBalance !== 0n) throw networkErrors.floatNotZero('agent float', floatBalance);
      const commission = (await this.#deps.ledger.balance(agent.commissionAccountId, tx)).balance;
      if (commission !== 0n) throw networkErrors.floatNotZero('commission payable', commission);
      for (const store of stores) {
        const balance = (await this.#deps.ledger.balance(store.floatAccountId, tx)).balance;
        if (balance !== 0n) throw networkErrors.floatNotZero(`store ${store.storeNumber} float`, balance);
      }
      const now = new Date();
      const [row] = await tx
        .update(agents)
        .set({ status: 'closed', statusReason: reason, updatedAt: now })
        .where(eq(agents.id, id))
        .returning();
      await tx
        .update(agentStores)
        .set({ status: 'closed', statusReason: 'agent closed', updatedAt: now })
        .where(eq(agentStores.agentId, id));
      await tx
        .update(agentOperators)
        .set({ status: 'closed', updatedAt: now })
        .where(eq(agentOperators.agentId, id));
      await writeAudit(tx, context, {
        action: 'agent.closed',
        entityType: 'agent',
        entityId: id,
        before: { status: agent.status },
        after: { status: 'closed', reason },
      });
      return agentView(row!);
    });
    await this.#deps.onStandingChanged?.();
    return changed;
  }

  // --- Stores ---------------------------------------------------------------------------------------------------

  async createStore(agentId: string, input: CreateStoreInput, context: RequestContext) {
    assertCoordinates(input.lat, input.lon);
    assertGeofence(input.geofence);
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await inTransaction(this.#db, async (tx) => {
          const agent = await findAgent(tx, agentId);
          if (!agent) throw networkErrors.agentNotFound();
          if (agent.status === 'closed') throw networkErrors.statusConflict('add a store', agent.status);
          const id = uuidv7();
          const number = newNumber('S');
          const float = await this.#deps.ledger.createAccount(tx, {
            name: `Store float ${number}`,
            currency: agent.currency,
            kind: 'liability',
            debitsMustNotExceedCredits: true,
          });
          const [row] = await tx
            .insert(agentStores)
            .values({
              id,
              agentId,
              storeNumber: number,
              name: input.name.trim(),
              address: input.address.trim(),
              openingHours: (input.opening_hours ?? {}) as OpeningHours,
              latitude: input.lat,
              longitude: input.lon,
              geofence: input.geofence,
              floatAccountId: float.id,
            })
            .returning();
          const view = storeView(row!);
          await writeAudit(tx, context, {
            action: 'agent.store_created',
            entityType: 'agent_store',
            entityId: id,
            after: view,
          });
          return view;
        });
      } catch (error) {
        if (violatedConstraint(error) === 'agent_stores_number_key' && attempt < 5) continue;
        throw error;
      }
    }
  }

  async getStore(id: string) {
    return storeView(await this.store(id));
  }

  async listStores(
    agentId: string,
    query: { status?: StoreRow['status']; limit?: number; cursor?: string },
    onlyStore: string | null = null,
  ) {
    await this.agent(agentId);
    const limit = query.limit ?? 20;
    const after = decodeCursor(query.cursor, ['id'] as const);
    const rows = await listStores(
      this.#db,
      agentId,
      { ...query, store_id: onlyStore, limit },
      after?.id ?? null,
    );
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    return { items: page.items.map(storeView), next_cursor: page.next_cursor };
  }

  async updateStore(
    id: string,
    patch: { name?: string; address?: string; opening_hours?: HoursInput; lat?: number; lon?: number },
    context: RequestContext,
  ) {
    return inTransaction(this.#db, async (tx) => {
      const store = await findStore(tx, id, true);
      if (!store) throw networkErrors.storeNotFound();
      if (store.status === 'closed') throw networkErrors.statusConflict('update', store.status);
      const lat = patch.lat ?? store.latitude;
      const lon = patch.lon ?? store.longitude;
      assertCoordinates(lat, lon);
      const set: Partial<typeof agentStores.$inferInsert> = {
        updatedAt: new Date(),
        latitude: lat,
        longitude: lon,
      };
      if (patch.name !== undefined) set.name = patch.name.trim();
      if (patch.address !== undefined) set.address = patch.address.trim();
      if (patch.opening_hours !== undefined) set.openingHours = patch.opening_hours as OpeningHours;
      const [row] = await tx.update(agentStores).set(set).where(eq(agentStores.id, id)).returning();
      const after = storeView(row!);
      await writeAudit(tx, context, {
        action: 'agent.store_updated',
        entityType: 'agent_store',
        entityId: id,
        before: storeView(store),
        after,
      });
      return after;
    });
  }

  async setGeofence(id: string, geofence: Geofence, context: RequestContext) {
    assertGeofence(geofence);
    return inTransaction(this.#db, async (tx) => {
      const store = await findStore(tx, id, true);
      if (!store) throw networkErrors.storeNotFound();
      if (store.status === 'closed') throw networkErrors.statusConflict('edit the geofence', store.status);
      const [row] = await tx
        .update(agentStores)
        .set({ geofence, updatedAt: new Date() })
        .where(eq(agentStores.id, id))
        .returning();
      await writeAudit(tx, context, {
        action: 'agent.store_geofence_set',
        entityType: 'agent_store',
        entityId: id,
        before: store.geofence,
        after: geofence,
      });
      return storeView(row!);
    });
  }

  async setStoreStatus(
    id: string,
    action: 'suspend' | 'reactivate',
    reason: string,
    context: RequestContext,
  ) {
    const from = action === 'suspend' ? 'active' : 'suspended';
    const to = action === 'suspend' ? 'suspended' : 'active';
    const changed = await inTransaction(this.#db, async (tx) => {
      const store = await findStore(tx, id, true);
      if (!store) throw networkErrors.storeNotFound();
      if (store.status !== from) throw networkErrors.statusConflict(action, store.status);
      const [row] = await tx
        .update(agentStores)
        .set({ status: to, statusReason: reason, updatedAt: new Date() })
        .where(eq(agentStores.id, id))
        .returning();
      await writeAudit(tx, context, {
        action: `agent.store_${action === 'suspend' ? 'suspended' : 'reactivated'}`,
        entityType: 'agent_store',
        entityId: id,
        before: { status: store.status },
        after: { status: to, reason },
      });
      return storeView(row!);
    });
    await this.#deps.onStandingChanged?.();
    return changed;
  }

  async closeStore(id: string, reason: string, context: RequestContext) {
    const changed = await inTransaction(this.#db, async (tx) => {
      const store = await findStore(tx, id, true);
      if (!store) throw networkErrors.storeNotFound();
      if (store.status === 'closed') throw networkErrors.statusConflict('close', store.status);
      const balance = (await this.#deps.ledger.balance(store.floatAccountId, tx)).balance;
      if (balance !== 0n) throw networkErrors.floatNotZero(`store ${store.storeNumber} float`, balance);
      const now = new Date();
      const [row] = await tx
        .update(agentStores)
        .set({ status: 'closed', statusReason: reason, updatedAt: now })
        .where(eq(agentStores.id, id))
        .returning();
      await tx
        .update(agentOperators)
        .set({ status: 'closed', updatedAt: now })
        .where(eq(agentOperators.storeId, id));
      await writeAudit(tx, context, {
        action: 'agent.store_closed',
        entityType: 'agent_store',
        entityId: id,
        before: { status: store.status },
        after: { status: 'closed', reason },
      });
      return storeView(row!);
    });
    await this.#deps.onStandingChanged?.();
    return changed;
  }

  // --- Operators ------------------------------------------------------------------------------------------------

  async createOperator(input: CreateOperatorInput, context: RequestContext) {
    const phone = phoneOf(input.phone);
    if (input.role === 'teller') {
      if (!input.store_id) throw networkErrors.operatorInvalid('a teller works at a store (store_id)');
      if (!input.pin || !OPERATOR_PIN_PATTERN.test(input.pin))
        throw networkErrors.operatorInvalid('a teller needs an initial PIN of 6 digits');
      assertPinStrength(input.pin);
      if (input.password) throw networkErrors.operatorInvalid('a teller signs in with a PIN, not a password');
    } else {
      if (input.store_id) throw networkErrors.operatorInvalid('an agent admin has no store');
      if (!input.password) throw networkErrors.operatorInvalid('an agent admin needs an initial password');
      const problems = passwordProblems(input.password, this.#deps.passwordPolicy, [input.full_name, phone]);
      if (problems.length > 0) throw networkErrors.operatorInvalid(`password: ${problems.join('; ')}`);
      if (input.pin)
        throw networkErrors.operatorInvalid('an agent admin signs in with a password, not a PIN');
    }
    const passwordHash = input.password ? await hashPassword(input.password) : null;
    try {
      return await inTransaction(this.#db, async (tx) => {
        const agent = await findAgent(tx, input.agent_id);
        if (!agent) throw networkErrors.agentNotFound();
        if (agent.status === 'closed') throw networkErrors.statusConflict('add an operator', agent.status);
        if (input.store_id) {
          const store = await findStore(tx, input.store_id);
          if (!store || store.agentId !== agent.id) throw networkErrors.storeNotFound();
          if (store.status === 'closed')
            throw networkErrors.statusConflict('add an operator', `store ${store.status}`);
        }
        const id = uuidv7();
        const [row] = await tx
          .insert(agentOperators)
          .values({
            id,
            agentId: agent.id,
            storeId: input.store_id ?? null,
            role: input.role,
            fullName: input.full_name.trim(),
            phone,
            pinHash: input.pin ? operatorPinHash(this.#deps.pepper, id, input.pin) : null,
            passwordHash,
          })
          .returning();
        const view = operatorView(row!);
        await writeAudit(tx, context, {
          action: 'agent.operator_created',
          entityType: 'agent_operator',
          entityId: id,
          after: view,
        });
        return view;
      });
    } catch (error) {
      if (violatedConstraint(error) === 'agent_operators_phone_key') throw networkErrors.phoneExists();
      throw error;
    }
  }

  async getOperator(id: string) {
    const row = await this.operator(id);
    return operatorView(row, await devicesOf(this.#db, id));
  }

  async listOperators(
    agentId: string,
    query: { store_id?: string; status?: OperatorRow['status']; limit?: number; cursor?: string },
  ) {
    await this.agent(agentId);
    const limit = query.limit ?? 20;
    const after = decodeCursor(query.cursor, ['id'] as const);
    const rows = await listOperators(this.#db, agentId, { ...query, limit }, after?.id ?? null);
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    return { items: page.items.map((row) => operatorView(row)), next_cursor: page.next_cursor };
  }

  async setOperatorStatus(
    id: string,
    action: 'suspend' | 'reactivate',
    reason: string,
    context: RequestContext,
  ) {
    const from = action === 'suspend' ? 'active' : 'suspended';
    const to = action === 'suspend' ? 'suspended' : 'active';
    const changed = await inTransaction(this.#db, async (tx) => {
      const operator = await findOperator(tx, id, true);
      if (!operator) throw networkErrors.operatorNotFound();
      if (operator.status !== from) throw networkErrors.statusConflict(action, operator.status);
      const [row] = await tx
        .update(agentOperators)
        .set({ status: to, updatedAt: new Date() })
        .where(eq(agentOperators.id, id))
        .returning();
      await writeAudit(tx, context, {
        action: `agent.operator_${action === 'suspend' ? 'suspended' : 'reactivated'}`,
        entityType: 'agent_operator',
        entityId: id,
        before: { status: operator.status },
        after: { status: to, reason },
      });
      return operatorView(row!);
    });
    await this.#deps.onStandingChanged?.();
    return changed;
  }

  /** Staff set a teller's PIN again (this lifts a PIN lock). */
  async resetPin(id: string, pin: string, context: RequestContext): Promise<void> {
    if (!OPERATOR_PIN_PATTERN.test(pin)) throw networkErrors.operatorInvalid('the PIN is 6 digits');
    assertPinStrength(pin);
    await inTransaction(this.#db, async (tx) => {
      const operator = await findOperator(tx, id, true);
      if (!operator) throw networkErrors.operatorNotFound();
      if (operator.role !== 'teller') throw networkErrors.operatorInvalid('only tellers sign in with a PIN');
      if (operator.status === 'closed') throw networkErrors.statusConflict('reset the PIN', operator.status);
      await tx
        .update(agentOperators)
        .set({ pinHash: operatorPinHash(this.#deps.pepper, id, pin), updatedAt: new Date() })
        .where(eq(agentOperators.id, id));
      await writeAudit(tx, context, {
        action: 'agent.operator_pin_reset',
        entityType: 'agent_operator',
        entityId: id,
      });
    });
    await this.#deps.onPinReset?.(id);
  }

  async bindDevice(id: string, input: { device_id: string; public_key: string }, context: RequestContext) {
    if (!DEVICE_ID_PATTERN.test(input.device_id)) throw networkErrors.deviceInvalid('malformed device_id');
    const key = parseOperatorDeviceKey(input.public_key);
    if (!key) throw networkErrors.deviceInvalid('the public key must be an Ed25519 public key');
    return inTransaction(this.#db, async (tx) => {
      const operator = await findOperator(tx, id, true);
      if (!operator) throw networkErrors.operatorNotFound();
      if (operator.status === 'closed') throw networkErrors.statusConflict('bind a device', operator.status);
      // One active key per operator and device id: binding again replaces the key.
      await tx
        .update(agentOperatorDevices)
        .set({ revokedAt: new Date() })
        .where(
          and(
            eq(agentOperatorDevices.operatorId, id),
            eq(agentOperatorDevices.deviceId, input.device_id),
            isNull(agentOperatorDevices.revokedAt),
          ),
        );
      await tx.insert(agentOperatorDevices).values({
        id: uuidv7(),
        operatorId: id,
        deviceId: input.device_id,
        publicKey: key.export({ type: 'spki', format: 'der' }).toString('base64'),
        boundBy: context.actor.type === 'user' ? context.actor.id : null,
      });
      await writeAudit(tx, context, {
        action: 'agent.operator_device_bound',
        entityType: 'agent_operator',
        entityId: id,
        after: { device_id: input.device_id },
      });
      return operatorView(operator, await devicesOf(tx, id));
    });
  }

  async revokeDevice(id: string, deviceId: string, context: RequestContext) {
    return inTransaction(this.#db, async (tx) => {
      const operator = await findOperator(tx, id, true);
      if (!operator) throw networkErrors.operatorNotFound();
      const device = await activeDevice(tx, id, deviceId);
      if (!device) throw networkErrors.deviceNotFound(deviceId);
      await tx
        .update(agentOperatorDevices)
        .set({ revokedAt: new Date() })
        .where(eq(agentOperatorDevices.id, device.id));
      await writeAudit(tx, context, {
        action: 'agent.operator_device_revoked',
        entityType: 'agent_operator',
        entityId: id,
        before: { device_id: deviceId },
      });
      return operatorView(operator, await devicesOf(tx, id));
    });
  }
}
