/**
 * Push approval. A principal registers devices (an Ed25519 public key and a push token each). A challenge for a login
 * or transaction step goes to those devices through the outbox (`push.challenge`); a device answers approve or deny
 * with a request signed by its key over `pushSigningString(challenge id, decision, nonce)`, verified with
 * `node:crypto` against the registered key. The waiting step polls the challenge and consumes an approval once.
 *
 * - Answers are one guarded update (pending and unexpired → approved/denied): exactly one answer wins.
 * - Signature checks are counted before verifying; after five bad ones the challenge closes (`expired`).
 * - An approval is consumed with one guarded update too, within CONSUME_WINDOW after the answer.
 */
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import { and, asc, eq, gt, isNull, sql } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { randomToken } from '../../platform/crypto.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { commonErrors } from '../../platform/errors.ts';
import type { PrincipalType } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { emitEvent } from '../../platform/outbox.ts';
import { identityErrorCatalogue as codes } from './identity.errors.ts';
import { pushChallenge } from './identity.events.ts';
import { pushChallenges, registeredDevices } from './identity.tables.ts';

type PrincipalRef = { type: PrincipalType; id: string };
type DeviceRow = typeof registeredDevices.$inferSelect;
type ChallengeRow = typeof pushChallenges.$inferSelect;

export const PUSH_CHALLENGE_TTL_SECONDS = 120;
/** How long after the answer the waiting step may consume an approval. */
const CONSUME_WINDOW_MS = 120_000;
export const MAX_DEVICES = 10;
const MAX_BAD_SIGNATURES = 5;
const SIGNING_PREFIX = 'codeforge-push-v1';

export type PushPurpose = 'login' | 'transaction';
export type PushDecision = 'approve' | 'deny';
export type PushStatus = 'pending' | 'approved' | 'denied' | 'expired';

/** An Ed25519 public key as an OKP JWK (RFC 8037); private members are refused by the schema. */
export interface Ed25519Jwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid?: string;
  alg?: string;
  use?: string;
}

export const pushErrors = {
  invalidPublicKey: (reason: string) => codes.INVALID_PUBLIC_KEY({ params: { reason }, details: { reason } }),
  deviceLimit: () =>
    codes.DEVICE_LIMIT({ params: { max_devices: MAX_DEVICES }, details: { max_devices: MAX_DEVICES } }),
  noDevice: () => codes.NO_DEVICE(),
  invalidSignature: () => codes.INVALID_SIGNATURE(),
  closed: (status: PushStatus) => codes.PUSH_CHALLENGE_CLOSED({ params: { status }, details: { status } }),
  locked: () => codes.PUSH_CHALLENGE_LOCKED({ details: { status: 'expired' } }),
};

/** The exact bytes a device signs (UTF-8): prefix, challenge id, decision and nonce, separated by `|`. */
export function pushSigningString(challengeId: string, decision: PushDecision, nonce: string): string {
  return `${SIGNING_PREFIX}|${challengeId}|${decision}|${nonce}`;
}

/** Parses an Ed25519 public key given as SPKI PEM or OKP JWK; private keys are refused, never stored. */
export function parseDevicePublicKey(input: string | Ed25519Jwk): KeyObject {
  if (typeof input === 'string' && /PRIVATE KEY/.test(input))
    throw pushErrors.invalidPublicKey('a private key was sent; send only the public key');
  let key: KeyObject;
  try {
    key =
      typeof input === 'string'
        ? createPublicKey({ key: input, format: 'pem' })
        : createPublicKey({ key: { kty: input.kty, crv: input.crv, x: input.x }, format: 'jwk' });
  } catch {
    throw pushErrors.invalidPublicKey('not an SPKI PEM or JWK public key');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw pushErrors.invalidPublicKey('the key must be Ed25519');
  return key;
}

function fingerprint(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64url');
}

export function deviceView(row: DeviceRow) {
  return {
    device_id: row.deviceId,
    name: row.name,
    platform: row.platform,
    key_fingerprint: fingerprint(row.publicKey),
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
    last_used_at: row.lastUsedAt?.toISOString() ?? null,
  };
}

function statusOf(row: ChallengeRow, now = Date.now()): PushStatus {
  return row.status === 'pending' && row.expiresAt.getTime() <= now ? 'expired' : row.status;
}

function challengeView(row: ChallengeRow) {
  return {
    challenge_id: row.id,
    purpose: row.purpose,
    status: statusOf(row),
    details: row.details,
    expires_at: row.expiresAt.toISOString(),
    responded_at: row.respondedAt?.toISOString() ?? null,
  };
}

export interface DeviceInput {
  device_id: string;
  name: string;
  platform: DeviceRow['platform'];
  public_key: string | Ed25519Jwk;
  push_token: string;
}

/** What a device is registered with: the key already parsed and re-exported as SPKI PEM. */
interface StoredDevice {
  deviceId: string;
  name: string;
  platform: DeviceRow['platform'];
  publicKey: string;
  pushToken: string | null;
}

/**
 * Registers (or re-registers: same principal and `device_id`, new key, name or push token) a device on `tx`, under
 * the principal's lock so the device cap holds under parallel requests; audited.
 */
async function storeDevice(
  tx: Executor,
  principal: PrincipalRef,
  input: StoredDevice,
  context: RequestContext,
) {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended(${`device:${principal.id}`}, 0))`);
  const active = await tx
    .select({ deviceId: registeredDevices.deviceId })
    .from(registeredDevices)
    .where(
      and(
        eq(registeredDevices.principalType, principal.type),
        eq(registeredDevices.principalId, principal.id),
        isNull(registeredDevices.revokedAt),
      ),
    );
  const replacing = active.some((row) => row.deviceId === input.deviceId);
  if (!replacing && active.length >= MAX_DEVICES) throw pushErrors.deviceLimit();
  const values = {
    name: input.name,
    platform: input.platform,
    publicKey: input.publicKey,
    pushToken: input.pushToken,
    revokedAt: null,
    updatedAt: new Date(),
  };
  const [row] = await tx
    .insert(registeredDevices)
    .values({
      id: uuidv7(),
      principalType: principal.type,
      principalId: principal.id,
      deviceId: input.deviceId,
      ...values,
    })
    .onConflictDoUpdate({
      target: [registeredDevices.principalType, registeredDevices.principalId, registeredDevices.deviceId],
      set: values,
    })
    .returning();
  const view = deviceView(row!);
  await writeAudit(tx, context, {
    action: 'auth.device_registered',
    entityType: principal.type,
    entityId: principal.id,
    after: { device_id: view.device_id, platform: view.platform, key_fingerprint: view.key_fingerprint },
  });
  return view;
}

/** The ids a device may have (DeviceRegisterBody's `device_id`): what the device routes and answers accept. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export interface CustomerDeviceInput {
  customerId: string;
  deviceId: string;
  /** Ed25519 public key, SPKI PEM (checked again here: a private key or another key type is refused, 422). */
  publicKeyPem: string;
  platform: DeviceRow['platform'];
  name: string;
  pushToken?: string | null;
}

/**
 * Registers a customer's device for push approvals inside the caller's transaction (onboarding's activation binds
 * the device the registration was made on): identity's rules as `POST /auth/device/register` applies them — an
 * Ed25519 public key, one row per customer and device id, the device cap, the audit entry.
 */
export async function registerCustomerDevice(
  tx: Executor,
  input: CustomerDeviceInput,
  context: RequestContext,
) {
  if (!DEVICE_ID_PATTERN.test(input.deviceId))
    throw commonErrors.validation('The device id may hold only letters, digits, ".", "_", ":" and "-"', {
      errors: [{ field: 'device_id', message: 'must match ^[A-Za-z0-9._:-]{1,128}$' }],
    });
  const publicKey = parseDevicePublicKey(input.publicKeyPem)
    .export({ type: 'spki', format: 'pem' })
    .toString();
  return storeDevice(
    tx,
    { type: 'customer', id: input.customerId },
    {
      deviceId: input.deviceId,
      name: input.name,
      platform: input.platform,
      publicKey,
      pushToken: input.pushToken ?? null,
    },
    context,
  );
}

export class PushApprovals {
  readonly #deps: Dependencies;

  constructor(deps: Dependencies) {
    this.#deps = deps;
  }

  get #db(): Executor {
    return this.#deps.database.db;
  }

  #owned(principal: PrincipalRef) {
    return and(
      eq(registeredDevices.principalType, principal.type),
      eq(registeredDevices.principalId, principal.id),
    );
  }

  async listDevices(principal: PrincipalRef) {
    const rows = await this.#db
      .select()
      .from(registeredDevices)
      .where(and(this.#owned(principal), isNull(registeredDevices.revokedAt)))
      .orderBy(asc(registeredDevices.createdAt))
      .limit(MAX_DEVICES);
    return rows.map(deviceView);
  }

  /** Registers a device, or re-registers one with the same `device_id` (new key, name or push token). */
  async registerDevice(principal: PrincipalRef, input: DeviceInput, context: RequestContext) {
    const publicKey = parseDevicePublicKey(input.public_key)
      .export({ type: 'spki', format: 'pem' })
      .toString();
    return inTransaction(this.#db, (tx) =>
      storeDevice(
        tx,
        principal,
        {
          deviceId: input.device_id,
          name: input.name,
          platform: input.platform,
          publicKey,
          pushToken: input.push_token,
        },
        context,
      ),
    );
  }

  async revokeDevice(principal: PrincipalRef, deviceId: string, context: RequestContext): Promise<void> {
    await inTransaction(this.#db, async (tx) => {
      const revoked = await tx
        .update(registeredDevices)
        .set({ revokedAt: new Date(), updatedAt: new Date() })
        .where(
          and(
            this.#owned(principal),
            eq(registeredDevices.deviceId, deviceId),
            isNull(registeredDevices.revokedAt),
          ),
        )
        .returning({ id: registeredDevices.id });
      if (revoked.length === 0) throw commonErrors.notFound('Device');
      await writeAudit(tx, context, {
        action: 'auth.device_revoked',
        entityType: principal.type,
        entityId: principal.id,
        after: { device_id: deviceId },
      });
    });
  }

  /**
   * Sends a challenge to the principal's active devices (or to one of them) and returns its id, which the waiting
   * client polls. Also the entry point for other modules (a login or transaction step that wants approval).
   */
  async createChallenge(
    /** Staff and customers approve by push; agent operators have no push approvals. */
    principal: { type: 'user' | 'customer'; id: string },
    input: { purpose: PushPurpose; details?: Record<string, string | number>; device_id?: string },
  ) {
    const details = input.details ?? {};
    const id = randomToken(18);
    const nonce = randomToken(16);
    const expiresAt = new Date(Date.now() + PUSH_CHALLENGE_TTL_SECONDS * 1000);
    return inTransaction(this.#db, async (tx) => {
      const devices = await tx
        .select()
        .from(registeredDevices)
        .where(
          and(
            this.#owned(principal),
            isNull(registeredDevices.revokedAt),
            input.device_id === undefined ? undefined : eq(registeredDevices.deviceId, input.device_id),
          ),
        )
        .limit(MAX_DEVICES);
      if (devices.length === 0) throw pushErrors.noDevice();
      const [row] = await tx
        .insert(pushChallenges)
        .values({
          id,
          principalType: principal.type,
          principalId: principal.id,
          targetDeviceId: input.device_id === undefined ? null : devices[0]!.id,
          purpose: input.purpose,
          details,
          nonce,
          status: 'pending',
          expiresAt,
        })
        .returning();
      await emitEvent(
        tx,
        pushChallenge,
        { type: principal.type, id: principal.id },
        {
          challenge_id: id,
          principal_type: principal.type,
          principal_id: principal.id,
          purpose: input.purpose,
          details,
          nonce,
          expires_at: expiresAt.toISOString(),
          devices: devices.map((device) => ({
            device_id: device.deviceId,
            platform: device.platform,
            push_token: device.pushToken,
          })),
        },
      );
      return { ...challengeView(row!), devices: devices.length };
    });
  }

  async #find(challengeId: string): Promise<ChallengeRow | undefined> {
    const [row] = await this.#db
      .select()
      .from(pushChallenges)
      .where(eq(pushChallenges.id, challengeId))
      .limit(1);
    return row;
  }

  /** The challenge as its principal sees it; anyone else's answers 404, as if it did not exist. */
  async status(principal: PrincipalRef, challengeId: string) {
    const row = await this.#find(challengeId);
    if (!row || row.principalType !== principal.type || row.principalId !== principal.id)
      throw commonErrors.notFound('Push challenge');
    return challengeView(row);
  }

  async #close(challengeId: string): Promise<void> {
    await this.#db
      .update(pushChallenges)
      .set({ status: 'expired', updatedAt: new Date() })
      .where(and(eq(pushChallenges.id, challengeId), eq(pushChallenges.status, 'pending')));
  }

  /** A device's signed answer. 401 for a bad signature or a device that may not answer; 409 once closed. */
  async respond(
    input: { challenge_id: string; device_id: string; decision: PushDecision; signature: string },
    context: RequestContext,
  ) {
    const challenge = await this.#find(input.challenge_id);
    if (!challenge) throw commonErrors.notFound('Push challenge');
    const current = statusOf(challenge);
    if (current !== 'pending') throw pushErrors.closed(current);
    const ttlMs = Math.max(1000, challenge.expiresAt.getTime() - Date.now());
    // Counted before verifying: however many answers race, at most five bad signatures are checked.
    const attempts = await this.#deps.store.increment(`push:attempts:${challenge.id}`, ttlMs + 60_000);
    if (attempts > MAX_BAD_SIGNATURES) {
      await this.#close(challenge.id);
      throw pushErrors.locked();
    }
    const [device] = await this.#db
      .select()
      .from(registeredDevices)
      .where(
        and(
          eq(registeredDevices.principalType, challenge.principalType),
          eq(registeredDevices.principalId, challenge.principalId),
          eq(registeredDevices.deviceId, input.device_id),
          isNull(registeredDevices.revokedAt),
        ),
      )
      .limit(1);
    const signature = Buffer.from(input.signature, 'base64');
    const allowed = device && (challenge.targetDeviceId === null || challenge.targetDeviceId === device.id);
    const valid =
      allowed &&
      signature.length === 64 &&
      verify(
        null,
        Buffer.from(pushSigningString(challenge.id, input.decision, challenge.nonce)),
        createPublicKey(device.publicKey),
        signature,
      );
    if (!valid || !device) throw pushErrors.invalidSignature();
    const status = input.decision === 'approve' ? 'approved' : 'denied';
    const principal: PrincipalRef = { type: challenge.principalType, id: challenge.principalId };
    await inTransaction(this.#db, async (tx) => {
      const answered = await tx
        .update(pushChallenges)
        .set({ status, respondedAt: new Date(), respondedDeviceId: device.id, updatedAt: new Date() })
        .where(
          and(
            eq(pushChallenges.id, challenge.id),
            eq(pushChallenges.status, 'pending'),
            gt(pushChallenges.expiresAt, new Date()),
          ),
        )
        .returning({ id: pushChallenges.id });
      if (answered.length === 0) throw pushErrors.closed('expired');
      await tx
        .update(registeredDevices)
        .set({ lastUsedAt: new Date() })
        .where(eq(registeredDevices.id, device.id));
      await writeAudit(
        tx,
        { ...context, actor: principal },
        {
          action: `auth.push_${status}`,
          entityType: principal.type,
          entityId: principal.id,
          after: { challenge_id: challenge.id, purpose: challenge.purpose, device_id: device.deviceId },
        },
      );
    });
    return { challenge_id: challenge.id, status };
  }

  /**
   * For the step that waited: true exactly once, for an approved challenge of this principal answered within the
   * consume window; false for anything else (pending, denied, expired, consumed, someone else's).
   */
  async consumeApproval(
    principal: PrincipalRef,
    challengeId: string,
    purpose: PushPurpose,
  ): Promise<boolean> {
    const consumed = await this.#db
      .update(pushChallenges)
      .set({ consumedAt: new Date(), updatedAt: new Date() })
      .where(
        and(
          eq(pushChallenges.id, challengeId),
          eq(pushChallenges.principalType, principal.type),
          eq(pushChallenges.principalId, principal.id),
          eq(pushChallenges.purpose, purpose),
          eq(pushChallenges.status, 'approved'),
          isNull(pushChallenges.consumedAt),
          gt(pushChallenges.respondedAt, new Date(Date.now() - CONSUME_WINDOW_MS)),
        ),
      )
      .returning({ id: pushChallenges.id });
    return consumed.length === 1;
  }
}
