/** Password hashes, keyed HMACs, random codes and envelope encryption with key rotation. */
import assert from 'node:assert/strict';
import { argon2Sync, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import {
  ARGON2_PARAMETERS,
  DecryptionError,
  type Envelope,
  hashPassword,
  keyedHash,
  keyRing,
  openEnvelope,
  randomDigits,
  rewrapKey,
  sealEnvelope,
  verifyPassword,
} from './crypto.ts';

const b64 = (buffer: Buffer) => buffer.toString('base64').replace(/=+$/, '');

/** A PHC string built independently of hashPassword, with the given (weaker) memory cost. */
function argon2idPhc(password: string, memoryKiB: number, passes: number): string {
  const salt = randomBytes(16);
  const hash = argon2Sync('argon2id', {
    message: Buffer.from(password, 'utf8'),
    nonce: salt,
    memory: memoryKiB,
    passes,
    parallelism: 1,
    tagLength: 32,
  });
  return `$argon2id$v=19$m=${memoryKiB},t=${passes},p=1$${b64(salt)}$${b64(hash)}`;
}

describe('passwords', () => {
  test('hashPassword produces an OWASP argon2id PHC string that verifies', async () => {
    const stored = await hashPassword('correct horse battery staple');
    assert.match(stored, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    assert.deepEqual(await verifyPassword('correct horse battery staple', stored), {
      valid: true,
      needsRehash: false,
    });
  });

  test('two hashes of one password differ (random salt)', async () => {
    assert.notEqual(await hashPassword('same password'), await hashPassword('same password'));
  });

  test('a wrong password fails', async () => {
    const stored = await hashPassword('correct horse battery staple');
    assert.deepEqual(await verifyPassword('correct horse battery stapler', stored), {
      valid: false,
      needsRehash: false,
    });
    assert.equal((await verifyPassword('', stored)).valid, false);
  });

  test('a hash built independently with the current parameters verifies without rehash', async () => {
    const stored = argon2idPhc('independent', ARGON2_PARAMETERS.memoryKiB, ARGON2_PARAMETERS.passes);
    assert.deepEqual(await verifyPassword('independent', stored), { valid: true, needsRehash: false });
  });

  test('a legacy bcrypt hash verifies and asks for a rehash', async () => {
    const stored = bcrypt.hashSync('legacy password', 4);
    assert.deepEqual(await verifyPassword('legacy password', stored), { valid: true, needsRehash: true });
    assert.deepEqual(await verifyPassword('legacy passwort', stored), { valid: false, needsRehash: false });
  });

  test('a weaker argon2id hash verifies and asks for a rehash', async () => {
    const stored = argon2idPhc('weaker params', 4096, 2);
    assert.deepEqual(await verifyPassword('weaker params', stored), { valid: true, needsRehash: true });
    assert.deepEqual(await verifyPassword('weaker param', stored), { valid: false, needsRehash: false });
  });

  test('long passwords are not truncated', async () => {
    const prefix = 'p'.repeat(99);
    const first = `${prefix}a`;
    const second = `${prefix}b`;
    assert.equal(first.length, 100);
    const stored = await hashPassword(first);
    assert.equal((await verifyPassword(first, stored)).valid, true);
    assert.equal((await verifyPassword(second, stored)).valid, false);
    const other = await hashPassword(second);
    assert.equal((await verifyPassword(first, other)).valid, false);
  });

  test('unknown or malformed hashes never verify', async () => {
    for (const stored of ['', 'plaintext', '$argon2i$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA', '$2b$xx$']) {
      assert.deepEqual(await verifyPassword('plaintext', stored), { valid: false, needsRehash: false });
    }
  });
});

describe('keyed hashes and random codes', () => {
  const pepper = 'p'.repeat(40);

  test('keyedHash is stable for the same inputs', () => {
    assert.equal(keyedHash(pepper, 'pin', '1234'), keyedHash(pepper, 'pin', '1234'));
    assert.match(keyedHash(pepper, 'pin', '1234'), /^[0-9a-f]{64}$/);
  });

  test('keyedHash differs by purpose, by pepper and by value', () => {
    const base = keyedHash(pepper, 'pin', '1234');
    assert.notEqual(keyedHash(pepper, 'otp', '1234'), base);
    assert.notEqual(keyedHash('q'.repeat(40), 'pin', '1234'), base);
    assert.notEqual(keyedHash(pepper, 'pin', '1235'), base);
    // The separator keeps purpose and value apart.
    assert.notEqual(keyedHash(pepper, 'pin1', '234'), base);
  });

  test('randomDigits returns exactly the requested number of digits', () => {
    for (const length of [1, 4, 6, 8, 12, 32]) {
      for (let round = 0; round < 50; round += 1) {
        const code = randomDigits(length);
        assert.equal(code.length, length);
        assert.match(code, /^[0-9]+$/);
      }
    }
    assert.equal(randomDigits(0), '');
  });

  test('randomDigits uses every digit, including leading zeros', () => {
    const seen = new Set<string>();
    let leadingZero = false;
    for (let round = 0; round < 500; round += 1) {
      const code = randomDigits(6);
      for (const digit of code) seen.add(digit);
      if (code.startsWith('0')) leadingZero = true;
    }
    assert.equal(seen.size, 10);
    assert.ok(leadingZero, 'no code started with 0 in 500 tries');
  });
});

describe('envelope encryption', () => {
  const keyA = randomBytes(32);
  const keyB = randomBytes(32);
  const ringA = keyRing('k1', keyA, new Map());
  const plaintext = Buffer.from('national id: 12345678, dob 1990-01-01');

  function flipPayloadByte(envelope: Envelope, partIndex: number): Envelope {
    const parts = envelope.payload.split('.');
    const part = Buffer.from(parts[partIndex]!, 'base64url');
    part[0] = part[0]! ^ 0x01;
    parts[partIndex] = part.toString('base64url');
    return { ...envelope, payload: parts.join('.') };
  }

  test('seal then open returns the plaintext; each seal uses fresh keys', () => {
    const first = sealEnvelope(ringA, plaintext, 'customer:1');
    const second = sealEnvelope(ringA, plaintext, 'customer:1');
    assert.ok(first.wrappedKey.startsWith('k1.'));
    assert.notEqual(first.payload, second.payload);
    assert.notEqual(first.wrappedKey, second.wrappedKey);
    assert.ok(!first.payload.includes(plaintext.toString('base64url')));
    assert.deepEqual(openEnvelope(ringA, first, 'customer:1'), plaintext);
    assert.deepEqual(openEnvelope(ringA, second, 'customer:1'), plaintext);
  });

  test('an empty plaintext round-trips', () => {
    const envelope = sealEnvelope(ringA, Buffer.alloc(0), 'empty');
    assert.deepEqual(openEnvelope(ringA, envelope, 'empty'), Buffer.alloc(0));
  });

  test('one flipped byte in the iv, ciphertext or tag is a DecryptionError', () => {
    const envelope = sealEnvelope(ringA, plaintext, 'customer:1');
    for (const partIndex of [0, 1, 2]) {
      assert.throws(
        () => openEnvelope(ringA, flipPayloadByte(envelope, partIndex), 'customer:1'),
        DecryptionError,
        `part ${partIndex}`,
      );
    }
  });

  test('a tampered wrapped key is a DecryptionError', () => {
    const envelope = sealEnvelope(ringA, plaintext, 'customer:1');
    const [kid, iv, ciphertext, tag] = envelope.wrappedKey.split('.');
    const bytes = Buffer.from(ciphertext!, 'base64url');
    bytes[0] = bytes[0]! ^ 0x80;
    const wrappedKey = [kid, iv, bytes.toString('base64url'), tag].join('.');
    assert.throws(() => openEnvelope(ringA, { ...envelope, wrappedKey }, 'customer:1'), DecryptionError);
  });

  test('another context is a DecryptionError', () => {
    const envelope = sealEnvelope(ringA, plaintext, 'customer:1');
    assert.throws(() => openEnvelope(ringA, envelope, 'customer:2'), DecryptionError);
  });

  test('another master key under the same id is a DecryptionError', () => {
    const envelope = sealEnvelope(ringA, plaintext, 'customer:1');
    const impostor = keyRing('k1', keyB, new Map());
    assert.throws(() => openEnvelope(impostor, envelope, 'customer:1'), DecryptionError);
  });

  test('rotation: old envelopes open while k1 is kept, rewrapKey moves them to k2', () => {
    const envelope = sealEnvelope(ringA, plaintext, 'document:7');
    const ringB = keyRing('k2', keyB, new Map([['k1', keyA]]));
    assert.deepEqual(openEnvelope(ringB, envelope, 'document:7'), plaintext);

    const fresh = sealEnvelope(ringB, plaintext, 'document:8');
    assert.ok(fresh.wrappedKey.startsWith('k2.'));

    const rewrapped: Envelope = {
      wrappedKey: rewrapKey(ringB, envelope.wrappedKey),
      payload: envelope.payload,
    };
    assert.ok(rewrapped.wrappedKey.startsWith('k2.'));
    assert.equal(rewrapped.payload, envelope.payload);

    const ringWithoutK1 = keyRing('k2', keyB, new Map());
    assert.deepEqual(openEnvelope(ringWithoutK1, rewrapped, 'document:7'), plaintext);
    assert.throws(() => openEnvelope(ringWithoutK1, envelope, 'document:7'), DecryptionError);
    assert.throws(() => openEnvelope(ringA, rewrapped, 'document:7'), DecryptionError);
  });

  test('a wrapped key relabelled with another key id does not open', () => {
    const ringB = keyRing('k2', keyA, new Map([['k1', keyA]]));
    const envelope = sealEnvelope(ringB, plaintext, 'x');
    // Same key bytes under both ids: the id is authenticated, so relabelling fails.
    const relabelled = { ...envelope, wrappedKey: envelope.wrappedKey.replace(/^k2\./, 'k1.') };
    assert.throws(() => openEnvelope(ringB, relabelled, 'x'), DecryptionError);
  });

  test('malformed envelopes are a DecryptionError', () => {
    const envelope = sealEnvelope(ringA, plaintext, 'x');
    assert.throws(() => openEnvelope(ringA, { ...envelope, wrappedKey: 'k1.abc' }, 'x'), DecryptionError);
    assert.throws(() => openEnvelope(ringA, { ...envelope, wrappedKey: 'k9.a.b.c' }, 'x'), DecryptionError);
    assert.throws(() => openEnvelope(ringA, { ...envelope, payload: 'abc' }, 'x'), DecryptionError);
  });
});
