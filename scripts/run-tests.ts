/**
 * `npm test`: every test file, two at a time (TEST_CONCURRENCY), each file on its own database and Redis key prefix
 * (test/helpers/databases.ts); then, alone, the files that act on the shared services themselves
 * (`bank.test.ts` restarts PostgreSQL). Exits non-zero when either run fails.
 */
import { spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ALONE = ['test/reliability/bank.test.ts'];
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const files = [...globSync('src/**/*.test.ts'), ...globSync('test/**/*.test.ts')]
  .filter((file) => !ALONE.includes(file))
  .sort();

// Each test file is its own process loading the same few hundred modules: Node's compile cache keeps their compiled
// code between processes (about a quarter of the load time), unless the caller chose its own.
const env = { NODE_COMPILE_CACHE: join(tmpdir(), 'codeforge-compile-cache'), ...process.env };
const run = (args: string[]) =>
  spawnSync(process.execPath, ['--test', ...args], { stdio: 'inherit', env }).status ?? 1;

const together = run([`--test-concurrency=${concurrency}`, ...files]);
const alone = run(['--test-concurrency=1', ...ALONE]);
process.exit(together === 0 && alone === 0 ? 0 : 1);
