/**
 * Operator device keys: Ed25519 public keys given as base64 (raw 32 bytes or SPKI DER) or SPKI PEM, and the
 * signature over the sign-in string.
 */
import { createPublicKey, type KeyObject, verify } from 'node:crypto';

/** The SPKI DER prefix of an Ed25519 public key (RFC 8410): what turns a raw 32-byte key into SPKI. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** The key, or null when it is not an Ed25519 public key (a private key, another algorithm, garbage). */
export function parseOperatorDeviceKey(input: string): KeyObject | null {
  const text = input.trim();
  if (/PRIVATE KEY/.test(text)) return null;
  try {
    let key: KeyObject;
    if (text.startsWith('-----BEGIN')) key = createPublicKey({ key: text, format: 'pem' });
    else {
      const bytes = Buffer.from(text, 'base64');
      const der = bytes.length === 32 ? Buffer.concat([ED25519_SPKI_PREFIX, bytes]) : bytes;
      key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    }
    return key.asymmetricKeyType === 'ed25519' ? key : null;
  } catch {
    return null;
  }
}

/** What a teller's device signs to sign in. */
export function loginSigningString(nonce: string, deviceId: string): string {
  return `agent-login:${nonce}:${deviceId}`;
}

/** Verifies a base64 (or base64url) Ed25519 signature; false for anything malformed. */
export function verifyDeviceSignature(storedKey: string, message: string, signature: string): boolean {
  const key = parseOperatorDeviceKey(storedKey);
  if (!key) return false;
  const bytes = Buffer.from(signature.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  if (bytes.length !== 64) return false;
  try {
    return verify(null, Buffer.from(message), key, bytes);
  } catch {
    return false;
  }
}
