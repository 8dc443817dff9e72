/**
 * EdDSA (Ed25519) access and refresh JWTs with `kid` (RFC 8725): the algorithm is pinned, iss/aud/typ/exp/nbf
 * checked, and key-carrying headers (jku, x5u, jwk, x5c) refused. Keys live in the database, the private half
 * wrapped by the master key; rotation adds a new active key while retired ones keep verifying until expiry.
 */
import { createHash, type webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;

import { desc, eq, sql } from 'drizzle-orm';
import {
  decodeProtectedHeader,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importJWK,
  importPKCS8,
  type JWK,
  type JWTPayload,
  errors as joseErrors,
  jwtVerify,
  SignJWT,
} from 'jose';
import type { Config } from '../../config.ts';
import type { EphemeralStore } from '../../platform/cache.ts';
import { type KeyRing, openEnvelope, sealEnvelope } from '../../platform/crypto.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { type Channel, isChannel, PRINCIPAL_TYPES, type PrincipalType } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { identityErrors } from './identity.errors.ts';
import { signingKeys } from './identity.tables.ts';

export const ACCESS_TOKEN_TYPE = 'at+jwt';
export const REFRESH_TOKEN_TYPE = 'refresh+jwt';
const ALGORITHM = 'EdDSA';
const CLOCK_TOLERANCE_SECONDS = 5;
/** Verified tokens remembered per node (a few hundred bytes each). */
const VERIFIED_CACHE_SIZE = 10_000;
const ROTATION_CHANNEL = 'signing-keys:rotated';
const FORBIDDEN_HEADERS = ['jku', 'x5u', 'jwk', 'x5c', 'x5t', 'x5t#S256'];

export interface TokenClaims {
  sub: string;
  ptype: PrincipalType;
  sid: string;
  jti: string;
  exp: number;
  iat: number;
  /** The session's channel, set at sign-in (absent on tokens issued before it existed: see `sessionChannel`). */
  chn?: Channel;
}

/** The channel a session opened before tokens carried one is taken to be on: where those principals signed in. */
const CHANNEL_BEFORE_CLAIM: Record<TokenClaims['ptype'], Channel> = {
  user: 'web',
  customer: 'mobile',
  agent_operator: 'agent',
};

/** The channel of a verified token's session. */
export function sessionChannel(claims: Pick<TokenClaims, 'ptype' | 'chn'>): Channel {
  return isChannel(claims.chn) ? claims.chn : CHANNEL_BEFORE_CLAIM[claims.ptype];
}

interface LoadedKey {
  kid: string;
  publicKey: CryptoKey;
  publicJwk: JWK;
  privateKey: CryptoKey | null;
  status: 'active' | 'retired';
  retiredAt: Date | null;
}

export interface IssuedTokens {
  access_token: string;
  refresh_token: string;
  token_type: 'bearer';
  expires_in: number;
  refresh_expires_in: number;
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export class TokenService {
  readonly #db: Executor;
  readonly #keys: KeyRing;
  readonly #config: Config;
  #loaded = new Map<string, LoadedKey>();
  #activeKid: string | null = null;
  #lastReload = 0;
  /**
   * Tokens whose signature and claims were checked, until they expire: the same bytes verify the same way every
   * time, and an access token is presented on every request of a session. An entry counts only while the key that
   * verified it is still the loaded one (any reload of the key set drops them all). Bounded, oldest out first.
   */
  readonly #verified = new Map<string, { type: string; key: LoadedKey; claims: TokenClaims & JWTPayload }>();

  readonly #store: EphemeralStore;
  #unsubscribe: (() => Promise<void>) | null = null;
  #refreshTimer: NodeJS.Timeout | null = null;

  constructor(db: Executor, keys: KeyRing, config: Config, store: EphemeralStore) {
    this.#db = db;
    this.#keys = keys;
    this.#config = config;
    this.#store = store;
  }

  /** Stops listening for rotations made by other processes. */
  async stop(): Promise<void> {
    if (this.#refreshTimer) clearInterval(this.#refreshTimer);
    await this.#unsubscribe?.();
  }

  get accessTtlSeconds() {
    return this.#config.ACCESS_TOKEN_EXPIRE_MINUTES * 60;
  }

  get refreshTtlSeconds() {
    return this.#config.REFRESH_TOKEN_EXPIRE_MINUTES * 60;
  }

  /** Loads the keys; creates the first one on an empty database (one creator across nodes). */
  async init(): Promise<void> {
    await this.#reload();
    if (!this.#activeKid) {
      await inTransaction(this.#db, async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(7403)`);
        const [existing] = await tx
          .select()
          .from(signingKeys)
          .where(eq(signingKeys.status, 'active'))
          .limit(1);
        if (!existing) await this.#insertKey(tx);
      });
      await this.#reload();
    }
    // A rotation on any node (or the CLI) is announced; every node also re-reads the keys every few minutes.
    this.#unsubscribe = await this.#store.subscribe(
      ROTATION_CHANNEL,
      () => void this.#reload().catch(() => {}),
    );
    this.#refreshTimer = setInterval(() => void this.#reload().catch(() => {}), 5 * 60 * 1000);
    this.#refreshTimer.unref();
  }

  /** Makes a new key active; the previous one keeps verifying tokens it signed. */
  async rotate(): Promise<string> {
    const kid = await inTransaction(this.#db, async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(7403)`);
      await tx
        .update(signingKeys)
        .set({ status: 'retired', retiredAt: new Date(), updatedAt: new Date() })
        .where(eq(signingKeys.status, 'active'));
      return this.#insertKey(tx);
    });
    await this.#reload();
    await this.#store.publish(ROTATION_CHANNEL, kid).catch(() => {});
    return kid;
  }

  async #insertKey(tx: Executor): Promise<string> {
    const kid = uuidv7();
    const { publicKey, privateKey } = await generateKeyPair(ALGORITHM, { crv: 'Ed25519', extractable: true });
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALGORITHM, use: 'sig' };
    const pkcs8 = await exportPKCS8(privateKey);
    const envelope = sealEnvelope(this.#keys, Buffer.from(pkcs8), `signing-key:${kid}`);
    await tx.insert(signingKeys).values({
      kid,
      algorithm: ALGORITHM,
      publicJwk,
      privateKeyWrapped: JSON.stringify(envelope),
      status: 'active',
    });
    return kid;
  }

  async #reload(): Promise<void> {
    this.#lastReload = Date.now();
    const rows = await this.#db.select().from(signingKeys).orderBy(desc(signingKeys.createdAt));
    const loaded = new Map<string, LoadedKey>();
    let activeKid: string | null = null;
    const oldest = Date.now() - this.refreshTtlSeconds * 1000;
    for (const row of rows) {
      if (row.status === 'retired' && row.retiredAt && row.retiredAt.getTime() < oldest) continue;
      const jwk = row.publicJwk as JWK;
      const publicKey = (await importJWK(jwk, ALGORITHM)) as CryptoKey;
      let privateKey: CryptoKey | null = null;
      if (row.status === 'active') {
        const pkcs8 = openEnvelope(this.#keys, JSON.parse(row.privateKeyWrapped), `signing-key:${row.kid}`);
        privateKey = await importPKCS8(pkcs8.toString('utf8'), ALGORITHM);
        activeKid ??= row.kid;
      }
      loaded.set(row.kid, {
        kid: row.kid,
        publicKey,
        publicJwk: jwk,
        privateKey,
        status: row.status,
        retiredAt: row.retiredAt,
      });
    }
    this.#loaded = loaded;
    this.#activeKid = activeKid;
  }

  jwks(): { keys: JWK[] } {
    return { keys: [...this.#loaded.values()].map((key) => key.publicJwk) };
  }

  async #sign(claims: JWTPayload, type: string, ttlSeconds: number): Promise<string> {
    const active = this.#activeKid ? this.#loaded.get(this.#activeKid) : undefined;
    if (!active?.privateKey) throw new Error('no active signing key');
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: ALGORITHM, kid: active.kid, typ: type })
      .setIssuer(this.#config.JWT_ISSUER)
      .setAudience(this.#config.JWT_AUDIENCE)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(active.privateKey);
  }

  async issuePair(
    principal: { type: PrincipalType; id: string },
    sessionId: string,
    refreshId: string,
    channel: Channel,
  ): Promise<IssuedTokens> {
    const base = { sub: principal.id, ptype: principal.type, sid: sessionId, chn: channel };
    const access_token = await this.#sign(
      { ...base, jti: uuidv7() },
      ACCESS_TOKEN_TYPE,
      this.accessTtlSeconds,
    );
    const refresh_token = await this.#sign(
      { ...base, jti: refreshId },
      REFRESH_TOKEN_TYPE,
      this.refreshTtlSeconds,
    );
    return {
      access_token,
      refresh_token,
      token_type: 'bearer',
      expires_in: this.accessTtlSeconds,
      refresh_expires_in: this.refreshTtlSeconds,
    };
  }

  /** Signs a short-lived token of another type (e.g. an MFA challenge). */
  async signPurpose(claims: JWTPayload, type: string, ttlSeconds: number): Promise<string> {
    return this.#sign({ ...claims, jti: uuidv7() }, type, ttlSeconds);
  }

  async verify(token: string, type: string): Promise<TokenClaims & JWTPayload> {
    const known = this.#verified.get(token);
    if (known && known.type === type && this.#loaded.get(known.key.kid) === known.key) {
      if ((known.claims.exp ?? 0) + CLOCK_TOLERANCE_SECONDS > Date.now() / 1000) return known.claims;
      this.#verified.delete(token);
      throw identityErrors.invalidToken('Token has expired');
    }
    let kid: string | undefined;
    try {
      const header = decodeProtectedHeader(token);
      if (header.alg !== ALGORITHM) throw identityErrors.invalidToken();
      if (FORBIDDEN_HEADERS.some((name) => name in header)) throw identityErrors.invalidToken();
      if (header.typ !== type) throw identityErrors.invalidToken();
      kid = header.kid;
    } catch {
      throw identityErrors.invalidToken();
    }
    if (!kid) throw identityErrors.invalidToken();
    let key = this.#loaded.get(kid);
    if (!key && Date.now() - this.#lastReload > 5000) {
      // Another node may have rotated; look again, at most every few seconds.
      await this.#reload();
      key = this.#loaded.get(kid);
    }
    if (!key) throw identityErrors.invalidToken();
    try {
      const { payload } = await jwtVerify(token, key.publicKey, {
        algorithms: [ALGORITHM],
        issuer: this.#config.JWT_ISSUER,
        audience: this.#config.JWT_AUDIENCE,
        typ: type,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'iat', 'nbf', 'jti', 'sub'],
      });
      const claims = payload as TokenClaims & JWTPayload;
      if (
        typeof claims.sid !== 'string' ||
        typeof claims.jti !== 'string' ||
        !(PRINCIPAL_TYPES as readonly string[]).includes(claims.ptype) ||
        (claims.chn !== undefined && !isChannel(claims.chn))
      ) {
        throw identityErrors.invalidToken();
      }
      if (this.#verified.size >= VERIFIED_CACHE_SIZE)
        this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(token, { type, key, claims: Object.freeze(claims) });
      return claims;
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw identityErrors.invalidToken('Token has expired');
      throw identityErrors.invalidToken();
    }
  }
}
