/**
 * Runs the CAMARA SIM Swap fake on its own for local development: `npm run fake:sim-swap`. It prints the variables to
 * give the API. Every number is a subscriber with no known SIM swap until one is set through the admin route:
 *   curl -X POST localhost:8793/__fake/swaps -H 'content-type: application/json' \
 *     -d '{"phoneNumber": "+254712345678", "latestSimChange": "2026-12-07T08:00:00Z"}'
 * Environment: FAKE_SIM_SWAP_PORT (default 8793), SIM_SWAP_CLIENT_ID / SIM_SWAP_CLIENT_SECRET (the same values the
 * API is given; defaults are development credentials).
 */
import { startFakeSimSwap } from '../test/fakes/camara-sim-swap.ts';

const port = Number(process.env.FAKE_SIM_SWAP_PORT ?? '8793');
const clientId = process.env.SIM_SWAP_CLIENT_ID || 'dev-bank';
const clientSecret = process.env.SIM_SWAP_CLIENT_SECRET || 'dev-sim-swap-secret';
const fake = await startFakeSimSwap({ clientId, clientSecret, everyoneKnown: true, port });

process.stdout.write(
  [
    `Fake CAMARA SIM Swap API listening at ${fake.url}`,
    '',
    'Give the API these variables (e.g. in .env):',
    `  SIM_SWAP_API_ROOT=${fake.url}`,
    `  SIM_SWAP_TOKEN_URL=${fake.tokenUrl}`,
    `  SIM_SWAP_CLIENT_ID=${clientId}`,
    `  SIM_SWAP_CLIENT_SECRET=${clientSecret}`,
    '',
    'Every number has no known SIM swap until one is set:',
    `  curl -X POST ${fake.url}/__fake/swaps -H 'content-type: application/json' \\`,
    `    -d '{"phoneNumber": "+254712345678", "latestSimChange": "${new Date(Date.now() - 3 * 3_600_000).toISOString()}"}'`,
    '',
  ].join('\n'),
);

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    void fake.close().then(() => process.exit(0));
  });
