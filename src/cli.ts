/**
 * Operator commands: `npm run cli -- <command>`.
 *   migrate | seed | create-admin [--email E] [--username U] [--name N] | audit-verify | ledger-verify |
 *   ledger-roll-up | config-check
 *   | rotate-signing-key | rewrap-keys | outbox-dead-letters [consumer] | outbox-retry <consumer> [event id…]
 *   | outbox-replay <consumer> <event id | ISO time | earliest>
 *   | aml-lists-load <un|ofac|opensanctions> <file> [alt-file]
 *   | aml-demo [--url U] (--token T | --username U --password P)
 * Exit code 0 on success, 1 on failure (audit-verify: 1 when the chain is broken), 2 on bad usage.
 */

import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { type Config, ConfigError, describeConfig, environmentWithDotenv, parseConfig } from './config.ts';
import {
  AML_LIST_SOURCES,
  AmlDemoClient,
  AmlListLoader,
  amlDemoFetchTransport,
  amlListFile,
  formatAmlDemoTally,
  runAmlDemo,
} from './modules/aml/index.ts';
import { createIdentity } from './modules/identity/index.ts';
import { LedgerService } from './modules/ledger/index.ts';
import { systemContext, verifyAuditChain } from './platform/audit.ts';
import { randomToken } from './platform/crypto.ts';
import { lockDataDir } from './platform/data-dir-lock.ts';
import { runMigrations } from './platform/db.ts';
import { closeDependencies, type Dependencies, openDependencies } from './platform/dependencies.ts';
import {
  deadLetters,
  type ReplayPoint,
  replayConsumer,
  retryDeadLetters,
} from './platform/outbox-dispatcher.ts';
import { rewrapAll } from './rewrap.ts';
import { seedAll } from './seed.ts';

const USAGE = `usage: npm run cli -- <command>
  migrate              apply database migrations
  seed                 load seed data (permissions, roles, categories); safe to re-run
  create-admin         create a super administrator (--email, --username, --name; password from ADMIN_PASSWORD or generated)
  ledger-verify        check the ledger: debits = credits per currency, stored balances = journal lines, no
                       wallet below zero; exit 1 and name every mismatch if broken
  ledger-roll-up       add pending deltas of hot house accounts (fees, tax, settlement) to their balances
  audit-verify         check the audit log's hash chain; exit 1 and name the first tampered row if broken
  config-check         validate the configuration and print it with secrets hidden
  rotate-signing-key   make a new JWT signing key active; tokens signed by the old one stay valid until they expire
  rewrap-keys          after a master-key rotation, re-wrap every data key under MASTER_KEY (payloads untouched)
  outbox-dead-letters  list the events a consumer (or every consumer) set aside after its attempts, with the error
  outbox-retry         put a consumer's set-aside events (all, or the event ids given) back in its queue
  outbox-replay        queue a consumer every kept event of its topics from an event id, an ISO time or earliest
  aml-lists-load       load a sanctions/PEP list file as a new version: aml-lists-load <un|ofac|opensanctions>
                       <file> [alt-file] (OFAC: sdn.csv and its alt.csv); the same file again loads nothing; the
                       worker rescreens every customer after a version with differences
  aml-demo             seed the AML demo dataset through a running API (every default typology and realtime rule
                       trips; new customers each run) and print what each raised; exit 1 if any raised nothing:
                       aml-demo [--url http://localhost:8000] (--token <staff token> | --username U --password P)`;

/** An event id, an ISO 8601 time or `earliest`, as a replay point; null when it is none of them. */
function replayPoint(text: string | undefined): ReplayPoint | null {
  if (text === 'earliest') return 'earliest';
  if (text && /^[0-9]+$/.test(text)) return { eventId: BigInt(text) };
  const time = text ? new Date(text) : null;
  return time && !Number.isNaN(time.getTime()) ? { time } : null;
}

const print = (line: string) => process.stdout.write(`${line}\n`);

async function withDependencies<T>(config: Config, work: (deps: Dependencies) => Promise<T>): Promise<T> {
  // The embedded database allows one process: refused (with who holds it) while the API runs on the same directory.
  const release = embedded(config)
    ? lockDataDir(config.DATA_DIR, `the CLI (${process.argv[2] ?? 'command'})`)
    : () => {};
  try {
    const deps = await openDependencies(config, { migrate: false, runsWorker: false });
    try {
      return await work(deps);
    } finally {
      await closeDependencies(deps);
    }
  } finally {
    release();
  }
}

const embedded = (config: Config) => !config.DATABASE_URL && config.DATA_DIR !== ':memory:';

async function run(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help') {
    print(USAGE);
    return command ? 0 : 2;
  }
  let config: Config;
  try {
    // Operator commands scan whole tables (ledger-verify over 10M journal rows takes longer than the API's 30 s
    // statement timeout): a person runs them and can interrupt them, so they run without one.
    config = { ...parseConfig(environmentWithDotenv()), DATABASE_STATEMENT_TIMEOUT_MS: 0 };
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
  switch (command) {
    case 'config-check': {
      for (const [name, value] of Object.entries(describeConfig(config))) print(`${name}=${value}`);
      print('configuration is valid');
      return 0;
    }
    case 'migrate':
      return withDependencies(config, async (deps) => {
        await runMigrations(deps.database);
        print(`migrations applied (${deps.database.kind})`);
        return 0;
      });
    case 'seed':
      return withDependencies(config, async (deps) => {
        await runMigrations(deps.database);
        await seedAll(deps);
        print('seed data loaded');
        return 0;
      });
    case 'create-admin': {
      const { values } = parseArgs({
        args: rest,
        options: { email: { type: 'string' }, username: { type: 'string' }, name: { type: 'string' } },
      });
      return withDependencies(config, async (deps) => {
        const identity = await createIdentity(deps);
        const password = config.ADMIN_PASSWORD ?? randomToken(18);
        const user = await identity.createUser(
          {
            username: values.username ?? 'admin',
            email: values.email ?? config.ADMIN_EMAIL,
            full_name: values.name ?? 'Administrator',
            password,
            roles: ['super_admin'],
          },
          systemContext(),
          { mustChangePassword: config.ADMIN_PASSWORD === undefined },
        );
        print(`created super administrator ${user.username} <${user.email}> (${user.id})`);
        if (!config.ADMIN_PASSWORD) print(`password (shown once; change at first login): ${password}`);
        return 0;
      });
    }
    case 'audit-verify':
      return withDependencies(config, async (deps) => {
        const result = await verifyAuditChain(deps.database.db);
        if (result.ok) {
          print(`audit chain intact: ${result.checked} rows verified`);
          return 0;
        }
        print(
          `audit chain BROKEN at seq ${result.firstBadSeq}: ${result.reason} (${result.checked} rows verified before it)`,
        );
        return 1;
      });
    case 'ledger-verify':
      return withDependencies(config, async (deps) => {
        const ledger = new LedgerService(deps.database.db);
        const result = await ledger.verify();
        for (const row of result.currencies)
          print(
            `${row.currency}: debits ${row.debits} credits ${row.credits}${row.debits === row.credits ? '' : '  UNBALANCED'}`,
          );
        if (result.ok) {
          print(
            'ledger verified: double entry holds, stored balances equal the journal, no guarded account below zero',
          );
          return 0;
        }
        print(`ledger BROKEN: ${JSON.stringify(result, null, 2)}`);
        return 1;
      });
    case 'ledger-roll-up':
      return withDependencies(config, async (deps) => {
        const moved = await new LedgerService(deps.database.db).rollUp();
        print(`${moved} deferred postings rolled up into house-account balances`);
        return 0;
      });
    case 'rotate-signing-key':
      return withDependencies(config, async (deps) => {
        const identity = await createIdentity(deps);
        const kid = await identity.tokens.rotate();
        print(`new signing key ${kid} is active`);
        return 0;
      });
    case 'rewrap-keys':
      return withDependencies(config, async (deps) => {
        const counts = await rewrapAll(deps.database.db, deps.keys);
        for (const [target, count] of Object.entries(counts)) print(`${target}: ${count} re-wrapped`);
        print(
          `all data keys are under master key ${deps.keys.activeId}; retired keys may leave MASTER_KEYS_PREVIOUS`,
        );
        return 0;
      });
    case 'outbox-dead-letters':
      return withDependencies(config, async (deps) => {
        const letters = await deadLetters(deps.database.db, rest[0], 1000);
        for (const letter of letters)
          print(
            `${letter.consumer}\t${letter.eventId}\t${letter.topic}@${letter.version}\t${letter.aggregateType}:${letter.aggregateId}\t${letter.attempts} attempts\t${letter.failedAt.toISOString()}\t${letter.lastError ?? ''}`,
          );
        print(`${letters.length} set aside`);
        return 0;
      });
    case 'outbox-retry': {
      const [consumer, ...ids] = rest;
      if (!consumer || ids.some((id) => !/^[0-9]+$/.test(id))) {
        process.stderr.write('usage: outbox-retry <consumer> [event id…]\n');
        return 2;
      }
      return withDependencies(config, async (deps) => {
        const count = await retryDeadLetters(
          deps.database.db,
          consumer,
          ids.length > 0 ? ids.map((id) => BigInt(id)) : undefined,
        );
        print(`${count} back in the queue of ${consumer}`);
        return 0;
      });
    }
    case 'outbox-replay': {
      const from = replayPoint(rest[1]);
      if (!rest[0] || !from) {
        process.stderr.write('usage: outbox-replay <consumer> <event id | ISO time | earliest>\n');
        return 2;
      }
      return withDependencies(config, async (deps) => {
        print(`${await replayConsumer(deps.database.db, rest[0]!, from)} events queued for ${rest[0]}`);
        return 0;
      });
    }
    case 'aml-lists-load': {
      const [source, file, alt] = rest;
      if (!source || !file || !(AML_LIST_SOURCES as readonly string[]).includes(source)) {
        process.stderr.write('usage: aml-lists-load <un|ofac|opensanctions> <file> [alt-file]\n');
        return 2;
      }
      return withDependencies(config, async (deps) => {
        const { unchanged, list } = await new AmlListLoader(deps.database.db).load(
          source as (typeof AML_LIST_SOURCES)[number],
          amlListFile(file),
          alt ? amlListFile(alt) : undefined,
          systemContext(),
        );
        print(
          unchanged
            ? `${source}: unchanged (the same file as version ${list.version}), nothing loaded`
            : `${source}: version ${list.version} loaded, ${list.entry_count} entries (added ${list.added}, ` +
                `removed ${list.removed}, changed ${list.changed})`,
        );
        return 0;
      });
    }
    case 'aml-demo':
      return amlDemo(rest);
    default:
      process.stderr.write(`unknown command "${command}"\n${USAGE}\n`);
      return 2;
  }
}

const DEMO_LIST_FILES = {
  un: { file: 'un-consolidated.xml', contentType: 'application/xml' },
  ofac: { file: 'ofac-sdn.csv', contentType: 'text/csv' },
  opensanctions: { file: 'opensanctions.jsonl', contentType: 'application/x-ndjson' },
} as const;

/**
 * The AML demo dataset, as a client of the running API (the quick start's embedded database takes one process, so
 * the CLI cannot open it beside `npm start`): everything goes through the routes, as a staff member signed in.
 */
async function amlDemo(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      url: { type: 'string', default: 'http://localhost:8000' },
      token: { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
    },
  });
  if (!values.token && !(values.username && values.password)) {
    process.stderr.write('usage: aml-demo [--url U] (--token T | --username U --password P)\n');
    return 2;
  }
  const send = amlDemoFetchTransport(values.url!);
  const wait = (ms: number) => sleep(ms).then(() => undefined);
  let token = values.token;
  if (!token) token = await new AmlDemoClient(send, '', wait).login(values.username!, values.password!);
  const lists = new URL('../data/aml/lists/', import.meta.url);
  const result = await runAmlDemo({
    client: new AmlDemoClient(send, token, wait),
    // The API's in-process worker (or `npm run worker`) runs the AML consumer and the jobs: the demo only waits.
    settle: async () => {},
    listFile: async (source) => ({
      body: await readFile(new URL(DEMO_LIST_FILES[source].file, lists), 'utf8'),
      contentType: DEMO_LIST_FILES[source].contentType,
    }),
    wait,
    log: print,
    timeoutMs: 120_000,
  });
  print('');
  print(formatAmlDemoTally(result.tally));
  if (result.missing.length > 0) {
    print(
      `\n${result.missing.length} expected typologies or rules raised nothing within 120 s (is the worker running?)`,
    );
    return 1;
  }
  print(`\nevery typology and rule raised its alerts (run ${result.tag}); the cases: GET /api/v1/aml/cases`);
  return 0;
}

run(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    // drizzle wraps the driver's error ("Failed query: …"): the cause is what the operator needs.
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    process.stderr.write(
      `${error instanceof Error ? error.message.split('\nparams:')[0] : String(error)}${cause}\n`,
    );
    process.exit(1);
  },
);
