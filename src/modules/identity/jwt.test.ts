/**
 * RFC 8725 attacks against GET /api/v1/auth/me (RELIABILITY property 13): every forged, confused or
 * out-of-context token is a 401. A validly hand-signed control token proves the forgeries fail for the
 * reason under test, not because the harness signs badly.
 */
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, type JsonWebKey, randomUUID, type webcrypto } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import {
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importPKCS8,
  type JWK,
  type JWTPayload,
  SignJWT,
} from 'jose';
import { ADMIN_PASSWORD, bearer, login, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { openEnvelope } from '../../platform/crypto.ts';
import { signingKeys } from './identity.tables.ts';

type CryptoKey = webcrypto.CryptoKey;

const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

interface RealKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

async function activeKey(t: TestContext): Promise<RealKey> {
  const rows = await t.deps.database.db.select().from(signingKeys).where(eq(signingKeys.status, 'active'));
  assert.equal(rows.length, 1, 'exactly one active signing key');
  const row = rows[0]!;
  const pkcs8 = openEnvelope(t.deps.keys, JSON.parse(row.privateKeyWrapped), `signing-key:${row.kid}`);
  const privateKey = (await importPKCS8(pkcs8.toString('utf8'), 'EdDSA')) as CryptoKey;
  return { kid: row.kid, privateKey, publicJwk: row.publicJwk as JWK };
}

describe('JWT attacks on /api/v1/auth/me (RFC 8725)', () => {
  let t: TestContext;
  let real: RealKey;
  /** Claims of a genuine access token of the administrator (sub, ptype, sid). */
  let genuine: JWTPayload;
  let attacker: { privateKey: CryptoKey; publicJwk: JWK };

  before(async () => {
    t = await startTestApp();
    real = await activeKey(t);
    genuine = decodeJwt(t.adminToken);
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    attacker = { privateKey: pair.privateKey, publicJwk: await exportJWK(pair.publicKey) };
  });
  after(async () => t.close());

  function payload(overrides: Record<string, unknown> = {}): JWTPayload {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      sub: genuine.sub,
      ptype: genuine.ptype,
      sid: genuine.sid,
      jti: randomUUID(),
      iss: t.config.JWT_ISSUER,
      aud: t.config.JWT_AUDIENCE,
      iat: now,
      nbf: now,
      exp: now + 300,
      ...overrides,
    };
    for (const [key, value] of Object.entries(claims)) if (value === undefined) delete claims[key];
    return claims as JWTPayload;
  }

  /** Signs with jose; by default with the server's real key, its kid and the access-token typ. */
  function forge(
    options: { claims?: Record<string, unknown>; header?: Record<string, unknown>; key?: CryptoKey } = {},
  ) {
    const header: Record<string, unknown> = { alg: 'EdDSA', typ: 'at+jwt', kid: real.kid, ...options.header };
    for (const [key, value] of Object.entries(header)) if (value === undefined) delete header[key];
    return new SignJWT(payload(options.claims))
      .setProtectedHeader(header as { alg: string })
      .sign(options.key ?? real.privateKey);
  }

  /** Builds a compact JWS by hand (for algorithms jose would refuse to produce). */
  function handBuilt(header: Record<string, unknown>, sign: (input: string) => string) {
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload()))}`;
    return `${input}.${sign(input)}`;
  }

  async function assertRefused(token: string, message: string) {
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(token) });
    assert.equal(response.statusCode, 401, `${message}: ${response.statusCode} ${response.body}`);
    const body = response.json();
    assert.ok(['INVALID_TOKEN', 'TOKEN_REVOKED', 'UNAUTHORIZED'].includes(body.error_code), message);
    assert.doesNotMatch(response.body, /"user":|permissions/, message);
  }

  test('control: a hand-signed token with the real key and correct claims is accepted', async () => {
    const response = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: bearer(await forge()),
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.equal(response.json().user.username, 'admin');
  });

  test('alg:none is refused, whatever its spelling or signature', async () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      await assertRefused(
        handBuilt({ alg, typ: 'at+jwt', kid: real.kid }, () => ''),
        `alg ${alg}`,
      );
    }
    // alg:none carrying the signature of a genuine token.
    const genuineSignature = t.adminToken.split('.')[2]!;
    await assertRefused(
      handBuilt({ alg: 'none', typ: 'at+jwt', kid: real.kid }, () => genuineSignature),
      'alg none with a signature',
    );
    // No alg at all.
    await assertRefused(
      handBuilt({ typ: 'at+jwt', kid: real.kid }, () => ''),
      'no alg',
    );
  });

  test('key confusion: HS256 keyed with the public key is refused', async () => {
    const x = real.publicJwk.x!;
    const pem = createPublicKey({ key: real.publicJwk as JsonWebKey, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    const secrets: [string, Buffer][] = [
      ['x as text', Buffer.from(x, 'utf8')],
      ['x decoded', Buffer.from(x, 'base64url')],
      ['JWK JSON', Buffer.from(JSON.stringify(real.publicJwk))],
      ['SPKI PEM', Buffer.from(pem)],
    ];
    for (const alg of ['HS256', 'HS512']) {
      const hash = alg === 'HS256' ? 'sha256' : 'sha512';
      for (const [name, secret] of secrets) {
        const token = handBuilt({ alg, typ: 'at+jwt', kid: real.kid }, (input) =>
          createHmac(hash, secret).update(input).digest('base64url'),
        );
        await assertRefused(token, `${alg} keyed with ${name}`);
      }
    }
  });

  test('an unknown kid is refused', async () => {
    await assertRefused(
      await forge({ key: attacker.privateKey, header: { kid: randomUUID() } }),
      'attacker key, random kid',
    );
    // The real key under a kid the server does not know.
    await assertRefused(await forge({ header: { kid: randomUUID() } }), 'real key, unknown kid');
    await assertRefused(await forge({ header: { kid: undefined } }), 'no kid');
    await assertRefused(await forge({ header: { kid: '../../etc/passwd' } }), 'path kid');
  });

  test('another key under the real kid is refused', async () => {
    await assertRefused(await forge({ key: attacker.privateKey }), 'attacker key, real kid');
  });

  test('an embedded jwk header is refused, even on an otherwise valid token', async () => {
    const attackerKid = randomUUID();
    await assertRefused(
      await forge({
        key: attacker.privateKey,
        header: { kid: attackerKid, jwk: { ...attacker.publicJwk, kid: attackerKid } },
      }),
      'attacker jwk, attacker kid',
    );
    await assertRefused(
      await forge({ key: attacker.privateKey, header: { jwk: attacker.publicJwk } }),
      'attacker jwk, real kid',
    );
    await assertRefused(await forge({ header: { jwk: real.publicJwk } }), 'real key with a jwk header');
  });

  test('jku, x5u and x5c headers are refused, even on an otherwise valid token', async () => {
    await assertRefused(
      await forge({
        key: attacker.privateKey,
        header: { kid: randomUUID(), jku: 'https://evil.example/jwks.json' },
      }),
      'attacker jku',
    );
    await assertRefused(
      await forge({ header: { jku: 'https://evil.example/jwks.json' } }),
      'real key with jku',
    );
    await assertRefused(
      await forge({ header: { x5u: 'https://evil.example/cert.pem' } }),
      'real key with x5u',
    );
    await assertRefused(await forge({ header: { x5c: ['MIIB'] } }), 'real key with x5c');
  });

  test('a wrong or missing issuer is refused', async () => {
    await assertRefused(await forge({ claims: { iss: 'https://evil.example' } }), 'wrong iss');
    await assertRefused(await forge({ claims: { iss: undefined } }), 'no iss');
  });

  test('a wrong or missing audience is refused', async () => {
    await assertRefused(await forge({ claims: { aud: 'some-other-api' } }), 'wrong aud');
    await assertRefused(await forge({ claims: { aud: undefined } }), 'no aud');
  });

  test('a wrong or missing typ is refused', async () => {
    for (const typ of ['JWT', 'refresh+jwt', 'mfa+jwt', 'at+jwt ', undefined]) {
      await assertRefused(await forge({ header: { typ } }), `typ ${typ}`);
    }
    // Issued by the server itself for another purpose.
    const purpose = await t.application.identity.tokens.signPurpose(
      { sub: genuine.sub, ptype: genuine.ptype, sid: genuine.sid },
      'mfa+jwt',
      300,
    );
    assert.equal(decodeProtectedHeader(purpose).kid, real.kid);
    await assertRefused(purpose, 'server-signed purpose token');
  });

  test('the refresh token is not an access token', async () => {
    const tokens = await login(t.app, 'admin', ADMIN_PASSWORD);
    await assertRefused(tokens.refresh_token, 'refresh token as access token');
    // And the other way round.
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: tokens.access_token },
    });
    assert.equal(response.statusCode, 401);
    // The refresh token is still good for its own purpose.
    const refreshed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/refresh',
      payload: { refresh_token: tokens.refresh_token },
    });
    assert.equal(refreshed.statusCode, 200, refreshed.body);
  });

  test('an expired token is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    await assertRefused(
      await forge({ claims: { iat: now - 3600, nbf: now - 3600, exp: now - 60 } }),
      'expired a minute ago',
    );
    await assertRefused(await forge({ claims: { exp: undefined } }), 'no exp');
  });

  test('a not-yet-valid token (nbf in the future) is refused', async () => {
    const now = Math.floor(Date.now() / 1000);
    await assertRefused(await forge({ claims: { nbf: now + 600, exp: now + 1200 } }), 'nbf in 10 minutes');
  });

  test('tampering and impossible principals are refused', async () => {
    const [header, body, signature] = t.adminToken.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
    const tampered = b64url(JSON.stringify({ ...claims, sub: randomUUID() }));
    await assertRefused(`${header}.${tampered}.${signature}`, 'payload changed, signature kept');
    const flipped = `${signature.slice(0, -2)}${signature.endsWith('AA') ? 'BA' : 'AA'}`;
    await assertRefused(`${header}.${body}.${flipped}`, 'signature altered');
    await assertRefused(await forge({ claims: { sub: randomUUID() } }), 'validly signed, unknown user');
    await assertRefused(await forge({ claims: { ptype: 'root' } }), 'unknown principal type');
    await assertRefused(await forge({ claims: { sid: undefined } }), 'no session id');
  });

  test('JWKS lists the active Ed25519 key without its private part', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    assert.equal(response.statusCode, 200);
    const { keys } = response.json() as { keys: JWK[] };
    const active = keys.find((key) => key.kid === real.kid);
    assert.ok(active, 'the active kid is published');
    assert.equal(active.kty, 'OKP');
    assert.equal(active.crv, 'Ed25519');
    assert.equal(active.alg, 'EdDSA');
    assert.equal(active.x, real.publicJwk.x);
    for (const key of keys) {
      for (const secret of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'])
        assert.ok(!(secret in key), `${key.kid} has ${secret}`);
    }
    assert.doesNotMatch(response.body, /PRIVATE KEY|"d":/);
    assert.equal(decodeProtectedHeader(t.adminToken).kid, real.kid);
  });

  test('after rotation old tokens still verify and new ones carry the new kid', async () => {
    const oldToken = t.adminToken;
    const oldKid = real.kid;
    const newKid = await t.application.identity.tokens.rotate();
    assert.notEqual(newKid, oldKid);

    const stillValid = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: bearer(oldToken),
    });
    assert.equal(stillValid.statusCode, 200, stillValid.body);

    const fresh = await login(t.app, 'admin', ADMIN_PASSWORD);
    assert.equal(decodeProtectedHeader(fresh.access_token).kid, newKid);
    assert.equal(decodeProtectedHeader(fresh.refresh_token).kid, newKid);
    const works = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: bearer(fresh.access_token),
    });
    assert.equal(works.statusCode, 200);

    const rows = await t.deps.database.db.select().from(signingKeys);
    assert.deepEqual(
      rows.filter((row) => row.status === 'active').map((row) => row.kid),
      [newKid],
    );
    assert.equal(rows.find((row) => row.kid === oldKid)?.status, 'retired');
    for (const row of rows) assert.doesNotMatch(row.privateKeyWrapped, /PRIVATE KEY/);

    const { keys } = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as {
      keys: JWK[];
    };
    assert.deepEqual(keys.map((key) => key.kid).sort(), [oldKid, newKid].sort());
    for (const key of keys) assert.ok(!('d' in key));

    // The harness now reads the new active key, and tokens it signs verify.
    const rotated = await activeKey(t);
    assert.equal(rotated.kid, newKid);
    const control = await forge({ key: rotated.privateKey, header: { kid: newKid } });
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(control) })).statusCode,
      200,
    );
  });
});
