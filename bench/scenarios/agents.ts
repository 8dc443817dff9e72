/**
 * 7. agents: an operator's cash-in (`POST /api/v1/agent/transaction/cash-in`) over HTTP on the bench API.
 *  - At 8 and 32 connections, against the app's P2P transfer measured in the same run at the same connection count
 *    (goal ≥ 0.9×): cash-ins spread over `SPREAD` agents, each with one store and one signed-in teller.
 *  - At the same counts, every cash-in through one store's float (the hot account: its ledger row is locked by every
 *    posting, and its agent's usage row counted in the same transaction), against the spread cash-ins (goal ≥ 0.8×).
 * The three variants run interleaved (transfer, spread, hot; transfer, spread, hot …) so a drift of the shared machine
 * hits them alike. Each request: a random teller of the store, a random seeded customer's phone, 1–9.99 KES, a fresh
 * Idempotency-Key, a location fix taken now at the store's point (inside its fence). ledger-verify after. While each
 * variant runs, pg_stat_activity is sampled (what the app's backends wait on), and the anatomy step counts the
 * statements of one cash-in against one transfer: where the time goes when the hot float is behind.
 * The network is built through the module's routes (scenarios/agents-seed.ts).
 */
import { randomInt } from 'node:crypto';
import type pg from 'pg';
import { type Anatomy, explainSamples, type InjectRequest, measureAnatomy } from '../lib/anatomy.ts';
import { cpuLines, errorText, f0, f1, f2, HEADER, log, pick, row, sleep, verdict } from '../lib/format.ts';
import { type BuiltRequest, combine, type LoadResult } from '../lib/load.ts';
import { quick, S } from '../lib/options.ts';
import { raw, section } from '../lib/report.ts';
import { idempotencyKey } from '../lib/requests.ts';
import type { Runner } from '../lib/runner.ts';
import type { SeededCustomer } from '../lib/seed.ts';
import { type BenchStore, seedAgentNetwork } from './agents-seed.ts';
import { type ProfileEntry, profiled, profileSection } from './profile.ts';

const CONNECTIONS = [8, 32];
const SPREAD = 64;
/** As many tellers at the hot store as the largest connection count: no teller waits for another's requests. */
const HOT_TELLERS = 32;
const FLOAT_MINOR = 1_000_000_000;
const CASH_IN_GOAL = 0.9;
const HOT_GOAL = 0.8;
const VARIANTS = ['transfer', 'spread', 'hot'] as const;
type Variant = (typeof VARIANTS)[number];

/** A cash-in by a random teller of a random one of `stores` to a random seeded customer. */
export function cashInRequestOf(stores: BenchStore[], customers: SeededCustomer[]): () => BuiltRequest {
  return () => {
    const store = pick(stores);
    const teller = pick(store.tellers);
    return {
      method: 'POST',
      path: '/api/v1/agent/transaction/cash-in',
      headers: {
        authorization: `Bearer ${teller.token}`,
        'idempotency-key': idempotencyKey(),
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        phone: pick(customers).phone,
        amount: 100 + randomInt(900),
        currency: 'KES',
        location: { lat: store.lat, lon: store.lon, accuracy_m: 8, fix_at: new Date().toISOString() },
      }),
    };
  };
}

/** What the app's backends were doing, sampled every 100 ms: average backends per state or wait event. */
interface WaitSample {
  samples: number;
  /** `state / wait_event_type:wait_event` → average number of backends. */
  waits: Record<string, number>;
  /** The statements seen waiting on a lock → average number of backends. */
  lockedStatements: Record<string, number>;
}

function sampleWaits(pool: pg.Pool): { stop: () => Promise<WaitSample> } {
  const counts: Record<string, number> = {};
  const locked: Record<string, number> = {};
  let samples = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const result = await pool
        .query<{ state: string; wait: string | null; query: string }>(
          `select state, wait_event_type || ':' || wait_event as wait, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) as query
             from pg_stat_activity
            where datname = current_database() and pid <> pg_backend_pid() and backend_type = 'client backend'
              and state <> 'idle'`,
        )
        .catch(() => null);
      if (result) {
        samples += 1;
        for (const backend of result.rows) {
          const key =
            backend.state === 'active' ? `active / ${backend.wait ?? 'CPU (no wait)'}` : backend.state;
          counts[key] = (counts[key] ?? 0) + 1;
          if (backend.wait?.startsWith('Lock:')) locked[backend.query] = (locked[backend.query] ?? 0) + 1;
        }
      }
      await sleep(100);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      const average = (values: Record<string, number>) =>
        Object.fromEntries(
          Object.entries(values)
            .sort((a, b) => b[1] - a[1])
            .map(([key, value]) => [key, value / Math.max(1, samples)]),
        );
      return { samples, waits: average(counts), lockedStatements: average(locked) };
    },
  };
}

interface Cell {
  slices: LoadResult[];
  waits: WaitSample[];
}

export async function agentsScenario(bench: Runner): Promise<void> {
  const { admin, transferRequest } = bench;
  const { customers, pool } = bench.primary;
  const network = await seedAgentNetwork(bench, {
    spread: SPREAD,
    hotTellers: HOT_TELLERS,
    floatMinor: FLOAT_MINOR,
  });
  const requests: Record<Variant, () => BuiltRequest> = {
    transfer: transferRequest,
    spread: cashInRequestOf(network.spread, customers),
    hot: cashInRequestOf([network.hot], customers),
  };
  // The new routes get the API's JIT and pools warm before anything is measured.
  for (const variant of ['spread', 'hot'] as const)
    await bench.measure(requests[variant], 16, quick ? 2 : 4, 0);
  const rounds = quick ? 1 : 3;
  const slice = Math.max(3, Math.round(S.seconds / rounds));
  const cells = new Map<string, Cell>();
  const cellOf = (variant: Variant, connections: number) => {
    const key = `${variant}@${connections}`;
    let cell = cells.get(key);
    if (!cell) {
      cell = { slices: [], waits: [] };
      cells.set(key, cell);
    }
    return cell;
  };
  for (const connections of CONNECTIONS) {
    for (let round = 0; round < rounds; round += 1) {
      for (const variant of VARIANTS) {
        const sampler = sampleWaits(pool);
        const result = await bench.measure(requests[variant], connections, slice, round === 0 ? S.warmup : 2);
        const cell = cellOf(variant, connections);
        cell.slices.push(result);
        cell.waits.push(await sampler.stop());
      }
      log(
        `agents c=${connections} round ${round + 1}/${rounds}: ${VARIANTS.map((variant) => `${variant} ${f0(cellOf(variant, connections).slices[round]!.rps)}`).join(', ')} req/s`,
      );
    }
  }
  const verification = await bench.verify();
  const anatomy = await admin.resilient(() =>
    measureAnatomy(
      bench.primary.deps,
      VARIANTS.map((variant) => ({
        name: variant === 'transfer' ? 'transfer' : `cash-in (${variant})`,
        count: quick ? 30 : 100,
        warmup: 20,
        next: (): InjectRequest => {
          const built = requests[variant]();
          return { method: built.method, url: built.path, headers: built.headers, payload: built.body };
        },
      })),
    ),
  );
  // The agents module's reads of a cash-in, explained with their captured parameters on the database as the run left
  // it (thousands of location checks per hot teller by then).
  const plans = await admin.resilient(() =>
    explainSamples(
      pool,
      [...anatomy.samples.values()].filter((sample) => /"agent_|from agent_/.test(sample.text)),
    ),
  );
  await admin.resilient(() => bench.primary.ledger.rollUp());
  const results = [...cells.entries()].map(([key, cell]) => {
    const [variant, connections] = key.split('@') as [Variant, string];
    return {
      variant,
      connections: Number(connections),
      result: combine(cell.slices),
      perRound: cell.slices.map((slice) => slice.rps),
      waits: mergeWaits(cell.waits),
    };
  });
  raw.agents = {
    spreadAgents: SPREAD,
    hotTellers: HOT_TELLERS,
    rounds,
    slice,
    results,
    verification,
    anatomy: anatomy.anatomies,
    plans,
  };
  section(agentsSection(results, { rounds, slice, verification }, anatomy.anatomies, plans));
  // Where the API's time goes in a cash-in against a transfer: each under the profiler at 32 connections.
  const profiles: ProfileEntry[] = [];
  for (const variant of ['transfer', 'spread'] as const) {
    const entry = await profiled(
      bench,
      `${LABELS[variant]}, 32 connections`,
      requests[variant],
      32,
      S.profileSeconds,
    );
    if (entry) profiles.push(entry);
  }
  await bench.restartApi(1);
  raw.agentsProfile = profiles.map((entry) => ({ name: entry.name, ...entry.summary }));
  section(
    profileSection(
      profiles,
      '### Agents: the API worker under `node --cpu-prof`, transfer against spread cash-in',
    ),
  );
}

function mergeWaits(samples: WaitSample[]): WaitSample {
  const total = samples.reduce((sum, sample) => sum + sample.samples, 0);
  const merge = (part: (sample: WaitSample) => Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const sample of samples)
      for (const [key, value] of Object.entries(part(sample)))
        out[key] = (out[key] ?? 0) + (value * sample.samples) / Math.max(1, total);
    return Object.fromEntries(Object.entries(out).sort((a, b) => b[1] - a[1]));
  };
  return { samples: total, waits: merge((s) => s.waits), lockedStatements: merge((s) => s.lockedStatements) };
}

type Measured = {
  variant: Variant;
  connections: number;
  result: LoadResult;
  perRound: number[];
  waits: WaitSample;
};

const LABELS: Record<Variant, string> = {
  transfer: 'P2P transfer (reference)',
  spread: `cash-in, spread over ${SPREAD} agents/stores`,
  hot: `cash-in, all through one store's float (${HOT_TELLERS} tellers)`,
};

function agentsSection(
  results: Measured[],
  run: { rounds: number; slice: number; verification: string },
  anatomy: Anatomy[],
  plans: { text: string; plan: string; ms: number; seqScan: boolean }[],
): string {
  const find = (variant: Variant, connections: number) =>
    results.find((entry) => entry.variant === variant && entry.connections === connections)!;
  const lines = [
    '## 7. agents — cash-in at an agent vs the P2P transfer; one hot float vs spread floats',
    '',
    `1 API worker; the variants run interleaved at each connection count (transfer, spread cash-in, hot cash-in), ${run.rounds} round(s) of ${run.slice} s each (per-round req/s below the table). Cash-in: \`POST /api/v1/agent/transaction/cash-in\` by a signed-in teller (Ed25519 device sign-in), a random seeded customer's phone, 1–9.99 KES, a fresh Idempotency-Key and a location fix taken now at the store's point (inside its 150 m fence); each one runs the geofence check (a fix inside the fence with no spoofing signal is written with the posting), the agent's daily usage row, the movement row, the commission quote (plan cached per node) and accrual legs, and the payment engine's posting from the store's float (a non-deferred ledger account) to the wallet: checked without locks, then committed in the group commit (\`payment_commit_batch\`, or \`payment_commit\` alone when idle) with the agent's rows as the payment's part (\`agent_cash_rows\`, in the payment's own block). Spread: ${SPREAD} agents, one store and one teller each, a random store per request. Hot: one agent's store with ${HOT_TELLERS} tellers, every cash-in debits its float. Reference: the bench's P2P transfer (random payer and payee among the seeded wallets, fee + excise duty), same API, same connections, seconds apart. The network was built through the module's routes (maker-checker activation, float deposits asked and confirmed by two staff members). ledger-verify after the last round.`,
    '',
    HEADER,
  ];
  for (const connections of CONNECTIONS) {
    const transfer = find('transfer', connections);
    const spread = find('spread', connections);
    const hot = find('hot', connections);
    const cashRatio = spread.result.rps / transfer.result.rps;
    const hotRatio = hot.result.rps / spread.result.rps;
    const cells = (entry: Measured) => [
      f1(entry.result.p50),
      f1(entry.result.p90),
      f1(entry.result.p99),
      errorText(entry.result),
    ];
    lines.push(
      row([
        LABELS.transfer,
        connections,
        1,
        f0(transfer.result.rps),
        '—',
        '1.00',
        '—',
        ...cells(transfer),
        '—',
      ]),
      row([
        `**${LABELS.spread}**`,
        connections,
        1,
        f0(spread.result.rps),
        `${f0(transfer.result.rps)} (transfer)`,
        f2(cashRatio),
        `≥${CASH_IN_GOAL}× transfer: ${verdict(cashRatio >= CASH_IN_GOAL)}`,
        ...cells(spread),
        '—',
      ]),
      row([
        `**${LABELS.hot}**`,
        connections,
        1,
        f0(hot.result.rps),
        `${f0(spread.result.rps)} (spread cash-in)`,
        f2(hotRatio),
        `≥${HOT_GOAL}× spread: ${verdict(hotRatio >= HOT_GOAL)}`,
        ...cells(hot),
        connections === CONNECTIONS[CONNECTIONS.length - 1] ? run.verification : '(after the last round)',
      ]),
    );
  }
  lines.push(
    '',
    `Per round (req/s): ${results.map((entry) => `${entry.variant} c=${entry.connections}: ${entry.perRound.map(f0).join(' / ')}`).join('; ')}.`,
    '',
    cpuLines(
      results.map((entry) => ({
        label: `${entry.variant} c=${entry.connections}`,
        cpu: entry.result.cpu,
        ok: entry.result.ok,
      })),
    ),
    '',
    'What the app database\'s backends were doing while each variant ran (pg_stat_activity sampled every 100 ms, warm-up included; average number of backends in each state; "idle in transaction" is a backend waiting for the API inside a transaction; the API pool has 8 connections):',
    '',
    '| variant | c | samples | backends by state / wait event | statements waiting on a lock (avg backends) |',
    '|---|---|---|---|---|',
    ...results.map((entry) =>
      row([
        entry.variant,
        entry.connections,
        entry.waits.samples,
        Object.entries(entry.waits.waits)
          .slice(0, 6)
          .map(([key, value]) => `${key} ${f2(value)}`)
          .join('; ') || '—',
        Object.entries(entry.waits.lockedStatements)
          .slice(0, 3)
          .map(([text, value]) => `\`${text.replace(/\|/g, '\\|')}\` ${f2(value)}`)
          .join('; ') || '—',
      ]),
    ),
    '',
    'One request at a time in-process (`app.inject` on the bench database, bench/lib/anatomy.ts): round trips per request.',
    '',
    '| request | statements / request | of which BEGIN | Redis commands / request | wall ms / request | DB ms / request | app CPU ms / request | failed |',
    '|---|---|---|---|---|---|---|---|',
    ...anatomy.map((entry) =>
      row([
        entry.name,
        f1(entry.statementsPerRequest),
        f1(entry.transactionsPerRequest),
        f1(entry.redisPerRequest),
        f2(entry.msPerRequest),
        f2(entry.dbMsPerRequest),
        f2(entry.cpuMsPerRequest),
        entry.failed,
      ]),
    ),
  );
  const cashIn = anatomy.find((entry) => entry.name === 'cash-in (spread)');
  if (cashIn)
    lines.push(
      '',
      `Statements of one cash-in (${f1(cashIn.statementsPerRequest)} in all), by total client-side time:`,
      '',
      '| per request | mean ms | statement |',
      '|---|---|---|',
      ...cashIn.top.map((statement) =>
        row([
          f2(statement.perRequest),
          f2(statement.meanMs),
          `\`${statement.text.slice(0, 150).replace(/\|/g, '\\|')}${statement.text.length > 150 ? '…' : ''}\``,
        ]),
      ),
    );
  lines.push(
    '',
    "The agents module's reads in a cash-in, `EXPLAIN (ANALYZE, BUFFERS)` with their captured parameters after the run:",
    '',
    '| execution ms | seq scan | plan nodes | statement |',
    '|---|---|---|---|',
    ...plans.map((entry) =>
      row([
        f2(entry.ms),
        entry.seqScan ? '**yes**' : 'no',
        planNodes(entry.plan).replace(/\|/g, '\\|'),
        `\`${entry.text.slice(0, 110).replace(/\|/g, '\\|')}…\``,
      ]),
    ),
  );
  return lines.join('\n');
}

/** "Limit → Incremental Sort → Index Scan using … on …": the plan's nodes, outermost first, without their figures. */
function planNodes(plan: string): string {
  return plan
    .split('\n')
    .filter((line, index) => index === 0 || line.includes('->'))
    .map((line) =>
      line
        .replace(/^\s*->\s*/, '')
        .replace(/\s*\(actual.*$/, '')
        .trim(),
    )
    .join(' → ');
}
