/**
 * The `agent_operator` principal: tellers sign in with phone + PIN on a bound device (a single-use nonce signed with
 * the device's Ed25519 key), agent admins with phone + password (and a second factor when they have one). Sessions
 * are identity's (refresh, logout), on the `agent` channel. The principal resolver reads the operator's, its store's,
 * its agent's and the super-agent's status on every request, so a suspension holds at once on every node.
 */
import { eq } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import type { EphemeralStore } from '../../platform/cache.ts';
import {
  burnPasswordVerification,
  constantTimeEqualHex,
  type KeyRing,
  randomToken,
  sealEnvelope,
  verifyPassword,
} from '../../platform/crypto.ts';
import { type Executor, inTransaction, perDatabase, readRetried } from '../../platform/db.ts';
import type { Principal } from '../../platform/http.ts';
import type { PrincipalAccess } from '../../platform/modules.ts';
import { OtpService, otpRequested } from '../../platform/otp.ts';
import { emitEvent } from '../../platform/outbox.ts';
import { normalisePhone } from '../customers/index.ts';
import type { IdentityService } from '../identity/index.ts';
import { loginSigningString, verifyDeviceSignature } from './agents.auth.keys.ts';
import { agentsErrors as codes } from './agents.errors.ts';
import {
  activeDevice,
  findAgent,
  findOperator,
  findOperatorByPhone,
  findStore,
  type OperatorStanding,
  operatorScopeQuery,
  operatorStandingQuery,
} from './agents.network.repository.ts';
import { operatorPinHash, operatorView } from './agents.network.ts';
import type { OperatorScope, OperatorScopes } from './agents.ports.ts';
import { agentOperators, type OperatorRole } from './agents.tables.ts';

/** Seconds a sign-in nonce lives. */
export const NONCE_TTL_SECONDS = 120;
/** Wrong PINs (or admin passwords) in a row before the lock. */
export const OPERATOR_MAX_FAILURES = 5;
/** How long the lock holds. */
export const OPERATOR_LOCK_MINUTES = 15;

export const ROLE_PERMISSIONS: Record<OperatorRole, string[]> = {
  teller: ['agent_op:transact', 'agent_op:read'],
  agent_admin: ['agent_op:read', 'agent_op:admin', 'agent_op:transact'],
};

export const authErrors = {
  failed: () => codes.AGENT_AUTH_FAILED(),
  wrongPin: (attemptsLeft: number) => codes.AGENT_PIN_INVALID({ details: { attempts_left: attemptsLeft } }),
  locked: (seconds: number) =>
    codes.AGENT_PIN_LOCKED({
      params: { minutes: Math.max(1, Math.ceil(seconds / 60)) },
      details: { retry_after_seconds: seconds },
      headers: { 'retry-after': String(seconds) },
    }),
  inactive: () => codes.AGENT_OPERATOR_INACTIVE(),
  mfaInvalid: () => codes.AGENT_MFA_INVALID(),
  scopeRequired: () => codes.AGENT_SCOPE_REQUIRED(),
};

/** Whether the whole chain an operator depends on is active. */
export function standingActive(row: OperatorStanding | undefined): boolean {
  if (!row) return false;
  return (
    row.operator_status === 'active' &&
    row.agent_status === 'active' &&
    (row.store_status === null || row.store_status === 'active') &&
    (row.parent_status === null || row.parent_status === 'active')
  );
}

export interface AuthDeps {
  db: Executor;
  store: EphemeralStore;
  pepper: string;
  keys: KeyRing;
  identity: IdentityService;
}

const ADMIN_MFA_TOKEN = 'agent-admin-mfa+jwt';
const ADMIN_MFA_TTL_SECONDS = 300;
const ADMIN_OTP_PURPOSE = 'agent_admin_login';

export class AgentAuth implements OperatorScopes {
  readonly #deps: AuthDeps;
  readonly #standing = perDatabase(operatorStandingQuery);

  constructor(deps: AuthDeps) {
    this.#deps = deps;
  }

  get #db(): Executor {
    return this.#deps.db;
  }

  /** The status chain of one operator (one prepared statement; every operator request runs it). */
  async standing(operatorId: string): Promise<OperatorStanding | undefined> {
    const [row] = await readRetried(() => this.#standing(this.#db).execute({ id: operatorId }));
    return row as OperatorStanding | undefined;
  }

  /** The principal resolver identity calls on every request with an `agent_operator` token. */
  async resolve(operatorId: string): Promise<PrincipalAccess | null> {
    const row = await this.standing(operatorId);
    if (!row) return null;
    return { active: standingActive(row), roles: [row.role], permissions: ROLE_PERMISSIONS[row.role] };
  }

  async scopeOf(principal: Principal): Promise<OperatorScope> {
    if (principal.type !== 'agent_operator') throw authErrors.scopeRequired();
    const [operator] = await operatorScopeQuery(this.#db).execute({ id: principal.id });
    if (!operator || operator.status === 'closed') throw codes.AGENT_OPERATOR_NOT_FOUND();
    return {
      operatorId: operator.id,
      agentId: operator.agentId,
      storeId: operator.storeId,
      role: operator.role,
    };
  }

  // --- Teller sign-in -------------------------------------------------------------------------------------------

  async challenge(input: { phone: string; device_id: string }) {
    const nonce = randomToken(24);
    await this.#deps.store.set(
      `agent-auth:nonce:${nonce}`,
      JSON.stringify({ phone: input.phone, device_id: input.device_id }),
      NONCE_TTL_SECONDS * 1000,
    );
    return { nonce, expires_in: NONCE_TTL_SECONDS };
  }

  /** Takes the nonce once: a second use (even in parallel) finds it gone. */
  async #consumeNonce(nonce: string): Promise<{ phone: string; device_id: string } | null> {
    const key = `agent-auth:nonce:${nonce}`;
    const stored = await this.#deps.store.get(key);
    if (!stored) return null;
    if (!(await this.#deps.store.setIfAbsent(`agent-auth:used:${nonce}`, '1', NONCE_TTL_SECONDS * 1000)))
      return null;
    await this.#deps.store.delete(key);
    return JSON.parse(stored) as { phone: string; device_id: string };
  }

  async #lockedFor(operatorId: string): Promise<number | null> {
    const ttl = await this.#deps.store.ttlMs(`agent-auth:lock:${operatorId}`);
    return ttl === null ? null : Math.max(1, Math.ceil(ttl / 1000));
  }

  /** Counts a wrong PIN or password: the lock after OPERATOR_MAX_FAILURES in a row. */
  async #countFailure(operatorId: string): Promise<never> {
    const lockMs = OPERATOR_LOCK_MINUTES * 60_000;
    const failures = await this.#deps.store.increment(`agent-auth:fail:${operatorId}`, lockMs);
    if (failures >= OPERATOR_MAX_FAILURES) {
      await this.#deps.store.set(`agent-auth:lock:${operatorId}`, '1', lockMs);
      await this.#deps.store.delete(`agent-auth:fail:${operatorId}`);
      throw authErrors.locked(OPERATOR_LOCK_MINUTES * 60);
    }
    throw authErrors.wrongPin(OPERATOR_MAX_FAILURES - failures);
  }

  /** Staff reset a PIN: the lock and the count go. */
  async clearFailures(operatorId: string): Promise<void> {
    await this.#deps.store.delete(`agent-auth:fail:${operatorId}`);
    await this.#deps.store.delete(`agent-auth:lock:${operatorId}`);
  }

  async login(
    input: { phone: string; device_id: string; pin: string; nonce: string; signature: string },
    context: RequestContext,
  ) {
    const issued = await this.#consumeNonce(input.nonce);
    if (!issued || issued.device_id !== input.device_id) throw authErrors.failed();
    let phone: string;
    try {
      phone = normalisePhone(input.phone);
    } catch {
      throw authErrors.failed();
    }
    const operator = await findOperatorByPhone(this.#db, phone);
    if (operator?.role !== 'teller' || !operator.pinHash || operator.status === 'closed')
      throw authErrors.failed();
    const device = await activeDevice(this.#db, operator.id, input.device_id);
    if (
      !device ||
      !verifyDeviceSignature(
        device.publicKey,
        loginSigningString(input.nonce, input.device_id),
        input.signature,
      )
    )
      throw authErrors.failed();
    const locked = await this.#lockedFor(operator.id);
    if (locked !== null) throw authErrors.locked(locked);
    const candidate = operatorPinHash(this.#deps.pepper, operator.id, input.pin);
    if (!constantTimeEqualHex(candidate, operator.pinHash)) await this.#countFailure(operator.id);
    await this.#deps.store.delete(`agent-auth:fail:${operator.id}`);
    if (!standingActive(await this.standing(operator.id))) throw authErrors.inactive();
    return this.openSession(operator.id, context, { method: 'pin+device', device_id: input.device_id });
  }

  // --- Agent admin sign-in --------------------------------------------------------------------------------------

  /** Phone + password; the lock is the same as the tellers' PIN lock. */
  async verifyAdminPassword(phoneInput: string, password: string) {
    let phone: string;
    try {
      phone = normalisePhone(phoneInput);
    } catch {
      await burnPasswordVerification(password);
      throw authErrors.failed();
    }
    const operator = await findOperatorByPhone(this.#db, phone);
    if (operator?.role !== 'agent_admin' || !operator.passwordHash || operator.status === 'closed') {
      await burnPasswordVerification(password);
      throw authErrors.failed();
    }
    const locked = await this.#lockedFor(operator.id);
    if (locked !== null) throw authErrors.locked(locked);
    if (!(await verifyPassword(password, operator.passwordHash)).valid) await this.#countFailure(operator.id);
    await this.#deps.store.delete(`agent-auth:fail:${operator.id}`);
    if (!standingActive(await this.standing(operator.id))) throw authErrors.inactive();
    return operator;
  }

  /**
   * Agent admin sign-in: the password, then a code by SMS to the admin's phone (the second factor every admin has).
   * The code goes through the outbox as identity's codes do (`otp.requested`, sealed); identity's MFA factors are
   * per enrolled staff factor, so the agents module issues its own code with the platform's OTP service.
   */
  async adminLogin(input: { phone: string; password: string }, context: RequestContext) {
    const operator = await this.verifyAdminPassword(input.phone, input.password);
    const agent = await findAgent(this.#db, operator.agentId);
    const issued = await this.#otp().issue({
      purpose: ADMIN_OTP_PURPOSE,
      subject: operator.id,
      binding: { operator: operator.id },
    });
    await inTransaction(this.#db, async (tx) => {
      // Sent to the admin's own phone; the notification's recipient record is the agent's owner (a customer), as
      // notifications addresses customers and staff only.
      await emitEvent(
        tx,
        otpRequested,
        { type: 'agent_operator', id: operator.id },
        {
          customer_id: agent!.ownerCustomerId,
          purpose: ADMIN_OTP_PURPOSE,
          channel: 'sms',
          challenge_id: issued.challengeId,
          expires_at: issued.expiresAt.toISOString(),
          code_sealed: JSON.stringify(
            sealEnvelope(this.#deps.keys, Buffer.from(issued.code), `otp:${issued.challengeId}`),
          ),
          phone: operator.phone,
        },
      );
      await writeAudit(
        tx,
        { ...context, actor: { type: 'agent_operator', id: operator.id } },
        { action: 'auth.mfa_challenge', entityType: 'agent_operator', entityId: operator.id },
      );
    });
    const mfaToken = await this.#deps.identity.tokens.signPurpose(
      { sub: operator.id, ptype: 'agent_operator', sid: 'agent-admin-mfa', ch: issued.challengeId },
      ADMIN_MFA_TOKEN,
      ADMIN_MFA_TTL_SECONDS,
    );
    return {
      mfa_required: true as const,
      factors: ['sms_otp'],
      mfa_token: mfaToken,
      expires_in: ADMIN_MFA_TTL_SECONDS,
    };
  }

  async adminVerify(input: { mfa_token: string; code: string }, context: RequestContext) {
    let operatorId: string;
    let challengeId: string;
    try {
      const claims = await this.#deps.identity.tokens.verify(input.mfa_token, ADMIN_MFA_TOKEN);
      operatorId = String(claims.sub);
      challengeId = String(claims.ch);
    } catch {
      throw authErrors.mfaInvalid();
    }
    try {
      await this.#otp().verify({
        purpose: ADMIN_OTP_PURPOSE,
        challengeId,
        code: input.code,
        binding: { operator: operatorId },
      });
    } catch {
      throw authErrors.mfaInvalid();
    }
    if (!standingActive(await this.standing(operatorId))) throw authErrors.inactive();
    return this.openSession(operatorId, context, { method: 'password+sms_otp' });
  }

  #otp(): OtpService {
    return new OtpService({
      store: this.#deps.store,
      pepper: this.#deps.pepper,
      resendCooldownMs: 0,
      hourlyCap: 20,
    });
  }

  async openSession(operatorId: string, context: RequestContext, detail: Record<string, unknown>) {
    return inTransaction(this.#db, async (tx) => {
      const tokens = await this.#deps.identity.sessions.openSession(
        tx,
        { type: 'agent_operator', id: operatorId },
        context,
        'agent',
      );
      await tx
        .update(agentOperators)
        .set({ lastLoginAt: new Date() })
        .where(eq(agentOperators.id, operatorId));
      await writeAudit(
        tx,
        { ...context, actor: { type: 'agent_operator', id: operatorId } },
        { action: 'auth.login', entityType: 'agent_operator', entityId: operatorId, after: detail },
      );
      return tokens;
    });
  }

  /** `GET /agent/me`: the operator, their agent and (tellers) store. */
  async me(principal: Principal) {
    const scope = await this.scopeOf(principal);
    const operator = await findOperator(this.#db, scope.operatorId);
    const agent = await findAgent(this.#db, scope.agentId);
    const store = scope.storeId ? await findStore(this.#db, scope.storeId) : null;
    return {
      operator: operatorView(operator!),
      role: scope.role,
      permissions: ROLE_PERMISSIONS[scope.role],
      agent: {
        id: agent!.id,
        agent_number: agent!.agentNumber,
        business_name: agent!.businessName,
        kind: agent!.kind,
        status: agent!.status,
        currency: agent!.currency,
      },
      store: store
        ? { id: store.id, store_number: store.storeNumber, name: store.name, status: store.status }
        : null,
    };
  }
}
