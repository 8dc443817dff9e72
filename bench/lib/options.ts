/**
 * The command line of `npm run bench` (bench/README.md): which scenarios run, how long, at what sizes, and the names
 * of the run's scratch databases. Read once, when bench/run.ts starts.
 */
import { parseArgs } from 'node:util';

export const ALL_SCENARIOS = [
  'anatomy',
  'transfer',
  'hot',
  'read',
  'login',
  'ussd',
  'agents',
  'aml',
  'aml-screening',
  'growth',
  'profile',
] as const;
export type Scenario = (typeof ALL_SCENARIOS)[number];

const { values: flags } = parseArgs({
  options: {
    scenarios: { type: 'string' },
    quick: { type: 'boolean', default: false },
    full: { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    workers: { type: 'string' },
    pool: { type: 'string' },
    customers: { type: 'string' },
    pg: { type: 'string' },
    redis: { type: 'string' },
    'log-level': { type: 'string' },
    'api-logs': { type: 'boolean', default: false },
  },
  allowPositionals: false,
});

export const quick = flags.quick ?? false;
export const full = flags.full ?? false;
/** Keep the scratch databases at the end. */
export const keep = flags.keep ?? false;
/** Keep the API's logs in a temporary directory instead of /dev/null. */
export const apiLogs = flags['api-logs'] ?? false;

const requested = (flags.scenarios ?? ALL_SCENARIOS.join(','))
  .split(',')
  .map((name) => name.trim())
  .filter(Boolean);
for (const name of requested)
  if (!(ALL_SCENARIOS as readonly string[]).includes(name))
    throw new Error(`unknown scenario "${name}" (known: ${ALL_SCENARIOS.join(', ')})`);
export const scenarios = new Set(requested as Scenario[]);
const list = (value: string) => value.split(',').map((item) => Number(item.trim()));

export const S = {
  seconds: Number(flags.seconds ?? (quick ? 5 : 15)),
  warmup: Number(flags.warmup ?? (quick ? 2 : 3)),
  readSeconds: Number(flags.seconds ?? (quick ? 4 : 10)),
  loginSeconds: Number(flags.seconds ?? (quick ? 4 : 10)),
  connections: list(flags.connections ?? (quick ? '8,32' : '8,32,64')),
  workers: list(flags.workers ?? (quick ? '1' : '1,2')),
  pool: Number(flags.pool ?? 8),
  customers: Number(flags.customers ?? 10_000),
  tokenHolders: quick ? 2_000 : Number(flags.customers ?? 10_000),
  historyWallets: 200,
  historyRounds: 120,
  hotConnections: 32,
  readConnections: 64,
  loginConnections: 16,
  growthConnections: 32,
  growthSteps: quick ? [200_000] : full ? [1_000_000, 10_000_000] : [1_000_000],
  profileSeconds: quick ? 5 : 12,
  staffUsers: 24,
  logLevel: flags['log-level'] ?? 'info',
  baseUrl: flags.pg ?? process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: flags.redis ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
};
S.tokenHolders = Math.min(S.tokenHolders, S.customers);

export const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
export const databaseName = `codeforge_bench_${stamp}`;
export const tpcbName = `${databaseName}_tpcb`;
export const growthName = `${databaseName}_growth`;

/** The command as typed, for the report. */
export const commandLine = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
