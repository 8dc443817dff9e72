/**
 * Cryptographic building blocks: argon2id password hashes (PHC strings), keyed HMACs for PINs/OTPs/blind indexes,
 * and AES-256-GCM envelope encryption (a data key per object, wrapped by a master key with an id, so keys rotate).
 */
import {
  argon2,
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  randomInt,
  timingSafeEqual,
} from 'node:crypto';
import bcrypt from 'bcryptjs';

/** OWASP's argon2id setting: 19 MiB, 2 passes, 1 lane. */
export const ARGON2_PARAMETERS = { memoryKiB: 19456, passes: 2, parallelism: 1, tagLength: 32 } as const;

function argon2idRaw(
  password: string,
  salt: Buffer,
  memoryKiB: number,
  passes: number,
  parallelism: number,
  tagLength: number,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    argon2(
      'argon2id',
      {
        message: Buffer.from(password, 'utf8'),
        nonce: salt,
        memory: memoryKiB,
        passes,
        parallelism,
        tagLength,
      },
      (error, derived) => (error ? reject(error) : resolve(Buffer.from(derived))),
    );
  });
}

const b64 = (buffer: Buffer) => buffer.toString('base64').replace(/=+$/, '');

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { memoryKiB, passes, parallelism, tagLength } = ARGON2_PARAMETERS;
  const hash = await argon2idRaw(password.normalize('NFKC'), salt, memoryKiB, passes, parallelism, tagLength);
  return `$argon2id$v=19$m=${memoryKiB},t=${passes},p=${parallelism}$${b64(salt)}$${b64(hash)}`;
}

const PHC_PATTERN = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

export interface PasswordCheck {
  valid: boolean;
  /** True when the stored hash is legacy or weaker than today's parameters: store a fresh hash. */
  needsRehash: boolean;
}

export async function verifyPassword(password: string, stored: string): Promise<PasswordCheck> {
  const match = PHC_PATTERN.exec(stored);
  if (match) {
    const [, memory, passes, parallelism, salt, hash] = match;
    const expected = Buffer.from(hash!, 'base64');
    let actual: Buffer;
    try {
      actual = await argon2idRaw(
        password.normalize('NFKC'),
        Buffer.from(salt!, 'base64'),
        Number(memory),
        Number(passes),
        Number(parallelism),
        expected.length,
      );
    } catch {
      // A corrupt stored hash (parameters out of range) is a failed check, not a server error.
      return { valid: false, needsRehash: false };
    }
    const valid = actual.length === expected.length && timingSafeEqual(actual, expected);
    const needsRehash =
      Number(memory) < ARGON2_PARAMETERS.memoryKiB ||
      Number(passes) < ARGON2_PARAMETERS.passes ||
      expected.length !== ARGON2_PARAMETERS.tagLength;
    return { valid, needsRehash: valid && needsRehash };
  }
  if (/^\$2[abxy]\$\d{2}\$/.test(stored)) {
    const valid = await bcrypt.compare(password, stored);
    return { valid, needsRehash: valid };
  }
  return { valid: false, needsRehash: false };
}

/** Spends the time of one verification so an unknown account answers as slowly as a known one. */
let dummyHash: string | undefined;
export async function burnPasswordVerification(password: string): Promise<void> {
  dummyHash ??= await hashPassword(randomBytes(12).toString('hex'));
  await verifyPassword(password, dummyHash);
}

/** HMAC-SHA256 keyed by the server pepper and separated by purpose (pin, otp, blind index …). */
export function keyedHash(pepper: string, purpose: string, value: string): string {
  return createHmac('sha256', pepper).update(purpose).update('\0').update(value).digest('hex');
}

export function constantTimeEqualHex(left: string, right: string): boolean {
  const a = Buffer.from(left, 'hex');
  const b = Buffer.from(right, 'hex');
  return a.length === b.length && a.length > 0 && timingSafeEqual(a, b);
}

/** A numeric code from the CSPRNG, zero-padded. */
export function randomDigits(length: number): string {
  let code = '';
  for (let index = 0; index < length; index += 1) code += String(randomInt(0, 10));
  return code;
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export interface KeyRing {
  activeId: string;
  keys: Map<string, Buffer>;
}

export function keyRing(activeId: string, activeKey: Buffer, previous: Map<string, Buffer>): KeyRing {
  const keys = new Map(previous);
  keys.set(activeId, activeKey);
  return { activeId, keys };
}

function gcmEncrypt(
  key: Buffer,
  plaintext: Buffer,
  associated: Buffer,
): { iv: Buffer; ciphertext: Buffer; tag: Buffer } {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(associated);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { iv, ciphertext, tag: cipher.getAuthTag() };
}

function gcmDecrypt(key: Buffer, iv: Buffer, ciphertext: Buffer, tag: Buffer, associated: Buffer): Buffer {
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(associated);
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
}

export class DecryptionError extends Error {}

/** A data key wrapped by the master key: `kid.iv.ciphertext.tag` in base64url. */
export function wrapKey(ring: KeyRing, dataKey: Buffer): string {
  const master = ring.keys.get(ring.activeId)!;
  const { iv, ciphertext, tag } = gcmEncrypt(master, dataKey, Buffer.from(`wrap:${ring.activeId}`));
  return [ring.activeId, iv, ciphertext, tag]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

export function unwrapKey(ring: KeyRing, wrapped: string): Buffer {
  const [kid, iv, ciphertext, tag] = wrapped.split('.');
  const master = kid ? ring.keys.get(kid) : undefined;
  if (!master || !iv || !ciphertext || !tag)
    throw new DecryptionError('unknown key id or malformed wrapped key');
  try {
    return gcmDecrypt(
      master,
      Buffer.from(iv, 'base64url'),
      Buffer.from(ciphertext, 'base64url'),
      Buffer.from(tag, 'base64url'),
      Buffer.from(`wrap:${kid}`),
    );
  } catch {
    throw new DecryptionError('wrapped key failed authentication');
  }
}

/** Re-wraps a data key under the active master key (rotation touches keys, not payloads). */
export function rewrapKey(ring: KeyRing, wrapped: string): string {
  return wrapKey(ring, unwrapKey(ring, wrapped));
}

export interface Envelope {
  wrappedKey: string;
  /** `iv.ciphertext.tag` in base64url. */
  payload: string;
}

/** Encrypts with a fresh data key; `context` binds the ciphertext to its owner (e.g. a row id). */
export function sealEnvelope(ring: KeyRing, plaintext: Buffer, context: string): Envelope {
  const dataKey = randomBytes(32);
  const { iv, ciphertext, tag } = gcmEncrypt(dataKey, plaintext, Buffer.from(context));
  return {
    wrappedKey: wrapKey(ring, dataKey),
    payload: [iv, ciphertext, tag].map((part) => part.toString('base64url')).join('.'),
  };
}

export function openEnvelope(ring: KeyRing, envelope: Envelope, context: string): Buffer {
  const dataKey = unwrapKey(ring, envelope.wrappedKey);
  const [iv, ciphertext, tag] = envelope.payload.split('.');
  if (!iv || ciphertext === undefined || !tag) throw new DecryptionError('malformed payload');
  try {
    return gcmDecrypt(
      dataKey,
      Buffer.from(iv, 'base64url'),
      Buffer.from(ciphertext, 'base64url'),
      Buffer.from(tag, 'base64url'),
      Buffer.from(context),
    );
  } catch {
    throw new DecryptionError('ciphertext failed authentication');
  }
}

/** A sealed JSON envelope (`{wrappedKey, payload}`) re-wrapped under the active master key; payload untouched. */
export function rewrapSealed(ring: KeyRing, sealed: string): string {
  const envelope = JSON.parse(sealed) as Envelope;
  return JSON.stringify({ ...envelope, wrappedKey: rewrapKey(ring, envelope.wrappedKey) });
}

/** Whether a wrapped key is already under the active master key. */
export function wrappedWithActiveKey(ring: KeyRing, wrapped: string): boolean {
  return wrapped.startsWith(`${ring.activeId}.`);
}
