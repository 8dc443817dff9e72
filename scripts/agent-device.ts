/**
 * `npm run agent:device`: the agent app's device key for trying the teller sign-in by hand (README, "Cash at an
 * agent"). `keygen <file>` writes an Ed25519 private key (PEM) to <file> and prints the public key the binding route
 * takes (base64 SPKI DER); `sign <file> <nonce> <device_id>` prints the signature the sign-in route takes (base64, over
 * `agent-login:{nonce}:{device_id}`). A real device keeps its key in its secure hardware; this is for development.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

const [command, file, nonce, deviceId] = process.argv.slice(2);
if (command === 'keygen' && file) {
  const { privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const publicKey = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  process.stdout.write(`${publicKey.toString('base64')}\n`);
} else if (command === 'sign' && file && nonce && deviceId) {
  const privateKey = createPrivateKey(readFileSync(file));
  const signature = sign(null, Buffer.from(`agent-login:${nonce}:${deviceId}`), privateKey);
  process.stdout.write(`${signature.toString('base64')}\n`);
} else {
  process.stderr.write('usage: agent-device keygen <file> | agent-device sign <file> <nonce> <device_id>\n');
  process.exit(2);
}
