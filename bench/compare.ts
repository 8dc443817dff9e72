/**
 * `npm run bench:compare [-- --baseline 7eb6267 --current HEAD --rounds 6 --seconds 10]`
 *
 * The transfer row (PERFORMANCE.md scenario 1's goal row: 8 connections, 1 API worker, pool 8) of two trees measured
 * in one run: issue 15 asks that it stay within ±5 % of the figure before the change. Each tree is checked out in a
 * temporary directory (`git worktree add --detach`; the shared working tree is not touched), gets node_modules (a
 * symlink to this checkout's when the lockfiles are equal, else its own `npm ci`), and runs `bench/compare-side.ts`
 * from inside itself: its own migrations, seed and `src/main.ts` on a fresh database of the same PostgreSQL server.
 * Both APIs stay up; the runs alternate in ABBA order (baseline, current; current, baseline; …), so a drift of the
 * shared machine hits both sides alike. The figure is the geometric mean of the per-round ratios current/baseline,
 * with its spread and a 95 % interval; PASS when it lies within ±5 %.
 *
 * A baseline older than bench/compare-side.ts gets this side's files from `--baseline-bench` (a commit whose bench/
 * runs against the baseline's src/; by default the one that introduced the split bench, which matches 7eb6267).
 * Writes bench/results/<date>-compare-<baseline>-<current>.md (+ .json). Exit code 1 when the verdict is FAIL.
 * See bench/README.md.
 */
import { type ChildProcess, execFile, fork } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { AdminConnection } from './lib/admin.ts';
import type { ComparedRun, SideMessage, SideResult, SideSettings, Tree } from './lib/compare-protocol.ts';
import { compareSection, summarise, treeName } from './lib/compare-report.ts';
import { log, startClock } from './lib/format.ts';
import { machineFacts, otherActivity } from './lib/machine.ts';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..');
/**
 * The commit whose bench/ a baseline without bench/compare-side.ts runs with: the one that introduced the split bench,
 * whose lib/ calls src/ as 7eb6267 has it.
 */
const DEFAULT_BASELINE_BENCH = '4e3c0ca1e2a6a26bafc136331d70dfb538087862';

const { values: flags } = parseArgs({
  options: {
    baseline: { type: 'string', default: '7eb6267' },
    current: { type: 'string', default: 'HEAD' },
    'baseline-bench': { type: 'string' },
    rounds: { type: 'string', default: '6' },
    seconds: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '3' },
    connections: { type: 'string', default: '8' },
    pool: { type: 'string', default: '8' },
    customers: { type: 'string', default: '10000' },
    holders: { type: 'string' },
    pg: { type: 'string' },
    redis: { type: 'string' },
    'log-level': { type: 'string', default: 'info' },
    'npm-ci': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
  allowPositionals: false,
});

const settings = {
  rounds: Number(flags.rounds),
  seconds: Number(flags.seconds),
  warmup: Number(flags.warmup),
  connections: Number(flags.connections),
  pool: Number(flags.pool),
  customers: Number(flags.customers),
  holders: Math.min(Number(flags.holders ?? flags.customers), Number(flags.customers)),
  serverUrl: flags.pg ?? process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: flags.redis ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  logLevel: flags['log-level'] ?? 'info',
};
const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
const commandLine = `npm run bench:compare${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;

async function git(...args: string[]): Promise<string> {
  const { stdout } = await run('git', ['-C', ROOT, ...args], { maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

/** A checkout of `asked` in a temporary directory, with bench/ able to run against its src/ and node_modules. */
async function materialise(label: Tree['label'], asked: string, parent: string): Promise<Tree> {
  if (asked === 'worktree') {
    return {
      label,
      asked,
      commit: await git('rev-parse', 'HEAD'),
      subject: await git('log', '-1', '--format=%s', 'HEAD'),
      directory: ROOT,
      created: false,
      nodeModules: 'this checkout',
    };
  }
  const commit = await git('rev-parse', '--verify', `${asked}^{commit}`);
  const directory = join(parent, label);
  await git('worktree', 'add', '--detach', directory, commit);
  const tree: Tree = {
    label,
    asked,
    commit,
    subject: await git('log', '-1', '--format=%s', commit),
    directory,
    created: true,
    nodeModules: '',
  };
  if (!existsSync(join(directory, 'bench', 'compare-side.ts'))) {
    const from = await git(
      'rev-parse',
      '--verify',
      `${flags['baseline-bench'] ?? DEFAULT_BASELINE_BENCH}^{commit}`,
    );
    rmSync(join(directory, 'bench'), { recursive: true, force: true });
    await run('sh', ['-c', `git -C "${ROOT}" archive ${from} bench | tar -x -C "${directory}"`]);
    if (!existsSync(join(directory, 'bench', 'compare-side.ts')))
      throw new Error(`${from} has no bench/compare-side.ts: pass --baseline-bench <commit> that has it`);
    tree.benchFrom = from;
  }
  const lock = (dir: string) => readFileSync(join(dir, 'package-lock.json'), 'utf8');
  if (!flags['npm-ci'] && lock(directory) === lock(ROOT) && existsSync(join(ROOT, 'node_modules'))) {
    symlinkSync(join(ROOT, 'node_modules'), join(directory, 'node_modules'));
    tree.nodeModules = "symlink to this checkout's (same package-lock.json)";
  } else {
    log(`${label}: npm ci in ${directory} (its package-lock.json differs from this checkout's)`);
    await run('npm', ['ci', '--no-audit', '--no-fund'], { cwd: directory, maxBuffer: 64 * 1024 * 1024 });
    tree.nodeModules = 'its own `npm ci`';
  }
  return tree;
}

/**
 * Loads the tree's `src/app.ts` in a throw-away process: a commit that imports a file nobody committed fails here, in
 * seconds, instead of after the other side has been seeded.
 */
async function preflight(tree: Tree): Promise<void> {
  const app = pathToFileURL(join(tree.directory, 'src', 'app.ts')).href;
  try {
    await run(
      process.execPath,
      ['--input-type=module', '-e', `await import(${JSON.stringify(app)}); process.exit(0);`],
      {
        cwd: tree.directory,
        timeout: 180_000,
        maxBuffer: 16 * 1024 * 1024,
      },
    );
  } catch (error) {
    const output = String((error as { stderr?: string }).stderr ?? error);
    const lines = output.split('\n').map((text) => text.trim());
    const line = lines.find((text) => /^[A-Za-z]*Error\b/.test(text)) ?? output.slice(0, 300);
    throw new Error(`the ${tree.label} tree (${treeName(tree)}) does not load src/app.ts: ${line.trim()}`);
  }
}

interface Side {
  tree: Tree;
  child: ChildProcess;
  /** The pending answer of the side (ready or a run's result). */
  next(): Promise<Record<string, unknown>>;
}

/** Starts bench/compare-side.ts inside the tree and waits until its API is seeded, up and warm. */
async function startSide(tree: Tree): Promise<Side> {
  const sideSettings: SideSettings = {
    label: tree.label,
    database: `codeforge_bench_${stamp}_${tree.label === 'baseline' ? 'base' : 'cur'}`,
    serverUrl: settings.serverUrl,
    redisUrl: settings.redisUrl,
    redisKeyPrefix: `cfbench:${stamp}:${tree.label === 'baseline' ? 'b' : 'c'}:`,
    dataDir: join(tmpdir(), `cf-bench-${stamp}-${tree.label}`),
    pool: settings.pool,
    customers: settings.customers,
    holders: settings.holders,
    logLevel: settings.logLevel,
    warmSeconds: 10,
  };
  const child = fork(join(tree.directory, 'bench', 'compare-side.ts'), [], {
    cwd: tree.directory,
    env: { ...process.env, COMPARE_SIDE: JSON.stringify(sideSettings) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const queue: Record<string, unknown>[] = [];
  let waiting: { resolve: (value: Record<string, unknown>) => void; reject: (error: Error) => void } | null =
    null;
  child.on('message', (message: Record<string, unknown>) => {
    if (waiting) {
      const { resolve } = waiting;
      waiting = null;
      resolve(message);
    } else queue.push(message);
  });
  child.once('exit', (code) => {
    waiting?.reject(new Error(`the ${tree.label} side exited with code ${code}`));
    waiting = null;
  });
  const side: Side = {
    tree,
    child,
    next: () => {
      const queued = queue.shift();
      if (queued) return Promise.resolve(queued);
      if (child.exitCode !== null) return Promise.reject(new Error(`the ${tree.label} side has exited`));
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject };
      });
    },
  };
  const ready = await side.next();
  if (ready.type !== 'ready') throw new Error(`the ${tree.label} side answered ${JSON.stringify(ready)}`);
  return side;
}

async function measure(side: Side, warmupSeconds: number): Promise<SideResult> {
  const message: SideMessage = {
    type: 'run',
    connections: settings.connections,
    seconds: settings.seconds,
    warmupSeconds,
  };
  side.child.send(message);
  const answer = await side.next();
  if (answer.type !== 'result')
    throw new Error(`the ${side.tree.label} side answered ${JSON.stringify(answer)}`);
  return answer as unknown as SideResult;
}

async function stopSide(side: Side): Promise<void> {
  if (side.child.exitCode !== null || side.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => side.child.once('exit', () => resolve()));
  side.child.send({ type: 'stop' } satisfies SideMessage);
  // A side that does not finish its teardown in time is ended; its API cluster stops when its parent goes away.
  const timer = setTimeout(() => side.child.kill('SIGKILL'), 90_000);
  await exited;
  clearTimeout(timer);
}

async function main(): Promise<number> {
  startClock();
  log(
    `bench:compare: baseline ${flags.baseline} vs current ${flags.current}, ${settings.rounds} rounds of ${settings.seconds} s at ${settings.connections} connections`,
  );
  const admin = new AdminConnection(settings.serverUrl);
  const facts = await machineFacts(admin, settings.redisUrl);
  const parent = mkdtempSync(join(tmpdir(), 'cf-compare-'));
  const trees: Tree[] = [];
  const sides: Side[] = [];
  try {
    trees.push(await materialise('baseline', flags.baseline!, parent));
    trees.push(await materialise('current', flags.current!, parent));
    for (const tree of trees)
      log(
        `${tree.label}: ${treeName(tree)} "${tree.subject.slice(0, 70)}" in ${tree.directory}${tree.benchFrom ? ` (bench/ from ${tree.benchFrom.slice(0, 12)})` : ''}`,
      );
    await Promise.all(trees.map(preflight));
    // One after the other: seeding is CPU-heavy, and neither side should be measured while the other seeds. The
    // current tree first: it is the one that may be the working tree, which other engineers edit meanwhile, so it is
    // loaded right after its preflight.
    for (const tree of [...trees].reverse()) sides.push(await startSide(tree));
    const [current, baseline] = sides as [Side, Side];
    const runs: ComparedRun[] = [];
    for (let round = 0; round < settings.rounds; round += 1) {
      const order = round % 2 === 0 ? [baseline, current] : [current, baseline];
      for (const side of order) {
        const measured = await measure(side, round < 2 ? settings.warmup : Math.min(settings.warmup, 2));
        runs.push({ round, side: side.tree.label, ...measured });
      }
      const of = (label: string) => runs.find((entry) => entry.round === round && entry.side === label)!;
      log(
        `round ${round + 1}/${settings.rounds}: baseline ${Math.round(of('baseline').result.rps)}, current ${Math.round(of('current').result.rps)} req/s (ratio ${(of('current').result.rps / of('baseline').result.rps).toFixed(3)})`,
      );
    }
    const summary = summarise(runs);
    const end = { loadEnd: loadavg(), ...(await otherActivity(admin)) };
    const markdown = compareSection({ trees, runs, summary, settings, facts, end, commandLine });
    process.stdout.write(`\n${markdown}\n`);
    const directory = join(import.meta.dirname, 'results');
    mkdirSync(directory, { recursive: true });
    const short = (tree: Tree) =>
      tree.created ? tree.commit.slice(0, 7) : `worktree-${tree.commit.slice(0, 7)}`;
    const file = join(
      directory,
      `${new Date().toISOString().slice(0, 10)}-compare-${short(trees[0]!)}-${short(trees[1]!)}`,
    );
    writeFileSync(`${file}.md`, `${markdown}\n`);
    writeFileSync(
      `${file}.json`,
      `${JSON.stringify({ settings, trees, runs, summary, facts, end }, null, 2)}\n`,
    );
    log(`wrote ${file}.md`);
    return summary.pass ? 0 : 1;
  } finally {
    for (const side of sides) await stopSide(side).catch(() => {});
    await admin.end();
    for (const tree of trees.filter((entry) => entry.created)) {
      if (flags.keep) log(`kept ${tree.directory}`);
      else await git('worktree', 'remove', '--force', tree.directory).catch(() => {});
    }
    if (!flags.keep) {
      rmSync(parent, { recursive: true, force: true });
      await git('worktree', 'prune').catch(() => {});
    }
  }
}

main()
  .then((code) => process.exit(code))
  .catch((error) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(2);
  });
