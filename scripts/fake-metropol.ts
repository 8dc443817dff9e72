/**
 * Runs the Metropol credit bureau fake on its own for local development: `npm run fake:metropol`. It prints the
 * variables to give the API. Every identity number has a file: score FAKE_METROPOL_SCORE (default 650) and not
 * delinquent, so a new customer with a national ID on file is scored and, on a thin file, referred to a loan officer.
 * Environment: FAKE_METROPOL_PORT (default 8791), METROPOL_PUBLIC_KEY / METROPOL_PRIVATE_KEY (the same values the API
 * is given; defaults are development keys).
 */
import { FakeMetropol } from '../test/fakes/metropol.ts';

const port = Number(process.env.FAKE_METROPOL_PORT ?? '8791');
const fake = new FakeMetropol({
  publicKey: process.env.METROPOL_PUBLIC_KEY || undefined,
  privateKey: process.env.METROPOL_PRIVATE_KEY || undefined,
  everyoneElse: { score: Number(process.env.FAKE_METROPOL_SCORE ?? '650') },
});
const { baseUrl, close } = await fake.start(port);

process.stdout.write(
  [
    `Fake Metropol CRB listening at ${baseUrl}`,
    '',
    'Give the API these variables (e.g. in .env):',
    `  METROPOL_BASE_URL=${baseUrl}`,
    `  METROPOL_PUBLIC_KEY=${fake.publicKey}`,
    `  METROPOL_PRIVATE_KEY=${fake.privateKey}`,
    '',
    `Every identity number scores ${process.env.FAKE_METROPOL_SCORE ?? '650'} and is not delinquent (FAKE_METROPOL_SCORE).`,
    '',
  ].join('\n'),
);

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    void close().then(() => process.exit(0));
  });
