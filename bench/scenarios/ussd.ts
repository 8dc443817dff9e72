/**
 * 5. ussd: whole USSD sessions through the Africa's Talking adapter (`POST /api/v1/ussd/at/<secret>`, form bodies,
 * `text` growing by one input per step), spoken by the simulator's programmatic API (scripts/ussd-sim) on
 * CONNECTIONS (32) virtual users, each dialling session after session as a random seeded customer:
 *  (a) a balance check (BALANCE_SESSION): sessions/s and each step's p99 (goal: every step's p99 < 50 ms);
 *  (b) sending money to another seeded customer (SEND_SESSION): sessions/s against the app's P2P transfer
 *      (`POST /wallet/transaction/transfer`, the bench's usual request) on the same driver, users and API in the same
 *      run (goal ≥ 0.8×), then ledger-verify.
 * A session counts only when every screen is the one expected (each matched by its phrase, and only the last one
 * ending the session): a refusal or an error screen is an error of the run, named by the step and its first words.
 */
import { randomInt } from 'node:crypto';
import { UssdSimulator } from '../../scripts/ussd-sim/index.ts';
import { cpuLines, f0, f1, f2, HEADER, log, row, verdict } from '../lib/format.ts';
import { S } from '../lib/options.ts';
import { raw, section } from '../lib/report.ts';
import type { Runner } from '../lib/runner.ts';
import { BENCH_PIN } from '../lib/seed.ts';
import { type Session, ussdAnatomy, ussdAnatomyLines } from './ussd-anatomy.ts';
import {
  driveSessions,
  httpTransport,
  percentile,
  type SessionLoadResult,
  type SessionOutcome,
} from './ussd-driver.ts';

/** The gateway secret of the bench API (PRODUCTION is not set there, so the development default answers). */
const SECRET = process.env.BENCH_USSD_SECRET ?? 'dev-ussd-secret';
const CONNECTIONS = 32;
const STEP_GOAL_MS = 50;
const SEND_GOAL = 0.8;

/** One step of a scripted session: what is typed (null: the dial) and what the screen it answers must say. */
interface ScriptStep {
  label: string;
  input: (session: Session) => string | null;
  /** The screen this step must lead to (it continues unless `ends`). */
  expect: RegExp;
  ends?: boolean;
}

const dial: ScriptStep = { label: 'dial → welcome, PIN', input: () => null, expect: /Enter your PIN/ };
const pin: ScriptStep = { label: 'PIN → main menu', input: () => BENCH_PIN, expect: /1\. Balance/ };

/** A seeded customer's number as typed on a Kenyan handset (`07…`). */
const national = (phone: string) => `0${phone.slice(4)}`;

/**
 * The balance check. The journeys give three steps (dial, PIN, `1`: the balance ends the session); the five steps of
 * PERFORMANCE.md go through the menu's back convention on the way, as a subscriber who opened the wrong entry does:
 * `2` (send money asks for a number, reading the wallets for the currency), `0` back to the menu, then `1`.
 */
export const BALANCE_SESSION: readonly ScriptStep[] = [
  dial,
  pin,
  { label: '2 send money → number', input: () => '2', expect: /Enter the phone number/ },
  { label: '0 back → main menu', input: () => '0', expect: /1\. Balance/ },
  { label: '1 balance → END', input: () => '1', expect: /Your balance:\nKES /, ends: true },
];

/** Sending money to another seeded customer's number, confirmed with the PIN (6 steps). */
export const SEND_SESSION: readonly ScriptStep[] = [
  dial,
  pin,
  { label: '2 send money → number', input: () => '2', expect: /Enter the phone number/ },
  { label: 'number → amount', input: ({ payee }) => national(payee.phone), expect: /Enter amount \(KES\)/ },
  { label: 'amount → confirm', input: () => String(10 + randomInt(90)), expect: /Enter PIN to confirm/ },
  { label: 'PIN → sent, END', input: () => BENCH_PIN, expect: /^Sent KES /, ends: true },
];

async function runScript(
  script: readonly ScriptStep[],
  simulator: UssdSimulator,
  ctx: Session,
): Promise<SessionOutcome> {
  const steps: number[] = [];
  for (const [index, step] of script.entries()) {
    const input = step.input(ctx);
    const started = performance.now();
    const screen = input === null ? await simulator.start() : await simulator.send(input);
    steps.push(performance.now() - started);
    if (!step.expect.test(screen.message) || screen.continue === (step.ends ?? false)) {
      // Named by the screen's first words: "Wrong PIN", "Sorry, something went wrong" …
      const words = screen.message.split(/\s+/).slice(0, 5).join(' ');
      return { steps, failure: `step ${index + 1} (${step.label}): ${words}` };
    }
  }
  return { steps };
}

export async function ussdScenario(bench: Runner): Promise<void> {
  const customers = bench.primary.customers;
  const users = CONNECTIONS;
  const { transport, close } = httpTransport(bench.primary.base, users);
  const cpuPids = bench.cpuOf(bench.server, bench.primary);
  const pickPair = () => {
    const payer = customers[randomInt(customers.length)]!;
    let payee = customers[randomInt(customers.length)]!;
    while (payee.walletId === payer.walletId) payee = customers[randomInt(customers.length)]!;
    return { payer, payee };
  };
  const session = (script: readonly ScriptStep[]) => async () => {
    const pair = pickPair();
    const simulator = new UssdSimulator({
      gateway: 'at',
      phone: pair.payer.phone,
      secret: SECRET,
      transport,
    });
    return runScript(script, simulator, pair);
  };
  try {
    const balance = await driveSessions({
      concurrency: users,
      seconds: S.seconds,
      warmupSeconds: S.warmup,
      session: session(BALANCE_SESSION),
      cpuPids,
    });
    log(
      `ussd: balance ${f1(balance.sessionsPerSecond)} sessions/s, worst step p99 ${f1(worstP99(balance))} ms`,
    );
    // The reference: the app's own transfer, through the same driver (a one-step session) and the same users.
    const transferRequest = bench.transferRequest;
    const transfer = await driveSessions({
      concurrency: users,
      seconds: S.seconds,
      warmupSeconds: S.warmup,
      session: async () => {
        const built = transferRequest();
        const started = performance.now();
        const answer = await transport({
          method: 'POST',
          path: built.path,
          headers: built.headers,
          body: built.body ?? '',
        });
        const elapsed = performance.now() - started;
        return answer.status === 201 || answer.status === 200
          ? { steps: [elapsed] }
          : { steps: [elapsed], failure: `transfer ${answer.status} ${answer.body.slice(0, 60)}` };
      },
      cpuPids,
    });
    log(`ussd: app transfer ${f0(transfer.sessionsPerSecond)}/s (reference)`);
    const send = await driveSessions({
      concurrency: users,
      seconds: S.seconds,
      warmupSeconds: S.warmup,
      session: session(SEND_SESSION),
      cpuPids,
    });
    log(`ussd: send money ${f1(send.sessionsPerSecond)} sessions/s`);
    const ledger = await bench.verify();
    const anatomy = await bench.admin.resilient(() =>
      ussdAnatomy(bench.primary.deps, {
        customers,
        secret: SECRET,
        balance: BALANCE_SESSION.map((step) => step.input),
        send: SEND_SESSION.map((step) => step.input),
        transfer: () => {
          const built = transferRequest();
          return { method: built.method, url: built.path, headers: built.headers, payload: built.body };
        },
      }),
    );
    await bench.admin.resilient(() => bench.primary.ledger.rollUp());
    raw.ussd = {
      balance: summary(balance),
      send: summary(send),
      transfer: summary(transfer),
      ledger,
      anatomy: anatomy.map(({ top: _top, ...figures }) => figures),
    };
    section([ussdSection(balance, send, transfer, ledger), ...ussdAnatomyLines(anatomy)].join('\n'));
  } finally {
    close();
  }
}

function worstP99(result: SessionLoadResult): number {
  return Math.max(...result.perStep.map((values) => percentile(values, 0.99)));
}

function summary(result: SessionLoadResult) {
  return {
    concurrency: result.concurrency,
    seconds: result.seconds,
    sessions: result.sessions,
    sessionsPerSecond: result.sessionsPerSecond,
    stepsPerSecond: result.stepsPerSecond,
    perStep: result.perStep.map((values) => ({
      count: values.length,
      p50: percentile(values, 0.5),
      p90: percentile(values, 0.9),
      p99: percentile(values, 0.99),
    })),
    errors: result.errors,
    errorKinds: result.errorKinds,
    cpu: result.cpu,
  };
}

function errorsOf(result: SessionLoadResult): string {
  if (result.errors === 0) return '0';
  const kinds = Object.entries(result.errorKinds)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([kind, count]) => `${kind} ×${count}`);
  return `${result.errors} sessions (${kinds.join('; ')})`;
}

const latencyCells = (values: Float64Array) => [
  f1(percentile(values, 0.5)),
  f1(percentile(values, 0.9)),
  f1(percentile(values, 0.99)),
];

function ussdSection(
  balance: SessionLoadResult,
  send: SessionLoadResult,
  transfer: SessionLoadResult,
  ledger: string,
): string {
  const worst = worstP99(balance);
  const ratio = send.sessionsPerSecond / transfer.sessionsPerSecond;
  const stepRows = (result: SessionLoadResult, script: readonly ScriptStep[], goal: boolean) =>
    result.perStep.map((values, index) =>
      row([
        `↳ step ${index + 1}: ${script[index]?.label ?? '?'}`,
        CONNECTIONS,
        1,
        f0(values.length / result.seconds),
        '—',
        '—',
        goal ? `p99 < ${STEP_GOAL_MS} ms: ${verdict(percentile(values, 0.99) < STEP_GOAL_MS)}` : '(reported)',
        ...latencyCells(values),
        '—',
        '—',
      ]),
    );
  return [
    "## 5. ussd — USSD sessions through the Africa's Talking adapter",
    '',
    `${CONNECTIONS} virtual users, 1 API worker, ${S.seconds} s each (warm-up ${S.warmup} s); each user dials session after session as a random seeded customer through \`POST /api/v1/ussd/at/<secret>\` (form body, \`text\` = every input so far joined by \`*\`), spoken by the simulator's programmatic API (\`scripts/ussd-sim\`) over keep-alive HTTP/1.1. A session counts only when every screen is the expected one. "req/s" of a session row is sessions/s; latencies are per step. The reference transfer is the bench's usual P2P transfer request sent through the same driver by the same ${CONNECTIONS} users, right before the send-money run.`,
    '',
    HEADER,
    row([
      `ussd balance session (${BALANCE_SESSION.length} steps)`,
      CONNECTIONS,
      1,
      `${f1(balance.sessionsPerSecond)} sessions/s (${f0(balance.stepsPerSecond)} steps/s)`,
      '—',
      '—',
      `p99 < ${STEP_GOAL_MS} ms per step: ${verdict(worst < STEP_GOAL_MS)} (worst ${f1(worst)} ms)`,
      ...latencyCells(balance.all),
      errorsOf(balance),
      '—',
    ]),
    ...stepRows(balance, BALANCE_SESSION, true),
    row([
      `ussd send-money session (${SEND_SESSION.length} steps)`,
      CONNECTIONS,
      1,
      `${f1(send.sessionsPerSecond)} sessions/s (${f0(send.stepsPerSecond)} steps/s)`,
      f0(transfer.sessionsPerSecond),
      f2(ratio),
      `≥${SEND_GOAL}× app transfer: ${verdict(ratio >= SEND_GOAL)}`,
      ...latencyCells(send.all),
      errorsOf(send),
      ledger,
    ]),
    ...stepRows(send, SEND_SESSION, false),
    row([
      'app P2P transfer (reference, same driver)',
      CONNECTIONS,
      1,
      f0(transfer.sessionsPerSecond),
      '—',
      '—',
      '—',
      ...latencyCells(transfer.all),
      errorsOf(transfer),
      '—',
    ]),
    '',
    cpuLines([
      { label: 'ussd balance (per step)', cpu: balance.cpu, ok: balance.all.length },
      { label: 'ussd send money (per step)', cpu: send.cpu, ok: send.all.length },
      { label: 'app transfer', cpu: transfer.cpu, ok: transfer.all.length },
    ]),
  ].join('\n');
}
