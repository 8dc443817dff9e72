/**
 * `npm run ussd:sim -- --phone +254712345678 [--gateway at|hubtel|arkesel|nalo] [--url http://localhost:8000]
 *   [--secret dev-ussd-secret] [--session <id>] [--service-code *384*123#] [--network 63902] [--show-pin]`
 *
 * A feature phone in the terminal: dials the USSD service of a running API through one gateway's real wire format
 * (scripts/ussd-sim/wire.ts), prints each screen, reads what you type, and offers to dial again when a session ends.
 * Typed input is echoed, except on a screen that asks for a PIN when stdin is a terminal: there nothing is echoed
 * (`--show-pin` echoes it anyway). With stdin piped (a script, a test) each line read is printed after the prompt, a
 * PIN as `****`. Exit with Ctrl-D or Ctrl-C; on Hubtel an open session is released first.
 */
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import {
  asksForPin,
  DEFAULT_SECRET,
  fetchTransport,
  isSimGateway,
  SIM_GATEWAYS,
  type SimScreen,
  UssdSimulator,
  WireError,
} from './ussd-sim/index.ts';

const usage = `usage: npm run ussd:sim -- --phone +254712345678 [--gateway ${SIM_GATEWAYS.join('|')}] [--url http://localhost:8000] [--secret ${DEFAULT_SECRET}] [--session <id>] [--service-code *384*123#] [--network <code>] [--show-pin]`;

function fail(message: string): never {
  process.stderr.write(`${message}\n${usage}\n`);
  process.exit(2);
}

let flags: ReturnType<typeof parse>['values'];
function parse() {
  return parseArgs({
    options: {
      phone: { type: 'string' },
      gateway: { type: 'string', default: 'at' },
      url: { type: 'string', default: process.env.USSD_SIM_URL || 'http://localhost:8000' },
      secret: { type: 'string', default: process.env.USSD_SIM_SECRET || DEFAULT_SECRET },
      session: { type: 'string' },
      'service-code': { type: 'string' },
      network: { type: 'string' },
      'show-pin': { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
    allowPositionals: false,
  });
}
try {
  flags = parse().values;
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
if (flags.help) {
  process.stdout.write(`${usage}\n`);
  process.exit(0);
}
if (!flags.phone) fail('--phone is required');
if (!isSimGateway(flags.gateway)) fail(`unknown gateway "${flags.gateway}"`);

const simulator = (() => {
  try {
    return new UssdSimulator({
      gateway: flags.gateway,
      phone: flags.phone,
      secret: flags.secret,
      sessionId: flags.session,
      serviceCode: flags['service-code'],
      network: flags.network,
      transport: fetchTransport(flags.url!),
    });
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
})();

// ------------------------------------------------------------------------------------------------ the terminal
const interactive = Boolean(process.stdin.isTTY);
let muted = false;
/** readline echoes what is typed through this; muted while a PIN is typed. */
const echo = new Writable({
  write(chunk, _encoding, callback) {
    if (!muted) process.stdout.write(chunk);
    callback();
  },
});
const rl = createInterface({ input: process.stdin, output: echo, terminal: interactive });
const lines: string[] = [];
let waiting: ((line: string | null) => void) | null = null;
let closed = false;
rl.on('line', (line) => {
  if (waiting) {
    const resolve = waiting;
    waiting = null;
    resolve(line);
  } else lines.push(line);
});
rl.on('close', () => {
  closed = true;
  waiting?.(null);
  waiting = null;
});
rl.on('SIGINT', () => void leave(130));

/** The next line typed, or null once the input has ended. */
function readLine(prompt: string, secret: boolean): Promise<string | null> {
  process.stdout.write(prompt);
  const hide = secret && interactive && !flags['show-pin'];
  muted = hide;
  const next =
    lines.length > 0
      ? Promise.resolve(lines.shift()!)
      : closed
        ? Promise.resolve(null)
        : new Promise<string | null>((resolve) => {
            waiting = resolve;
          });
  return next.then((line) => {
    muted = false;
    if (hide) process.stdout.write('\n');
    // Piped input is not echoed by anyone: show it, so a transcript reads like a session.
    if (!interactive && line !== null)
      process.stdout.write(`${secret && !flags['show-pin'] ? '*'.repeat(line.length) : line}\n`);
    return line;
  });
}

function show(screen: SimScreen) {
  const width = Math.min(process.stdout.columns ?? 60, 60);
  const title = ` ${simulator.serviceCode} · ${simulator.gateway} · ${simulator.phone} `;
  process.stdout.write(`\n┌${title}${'─'.repeat(Math.max(2, width - title.length - 1))}\n`);
  for (const line of screen.message.split('\n')) process.stdout.write(`│ ${line}\n`);
  const size = [...screen.message].length;
  process.stdout.write(
    `└─ ${screen.continue ? 'waiting for input' : 'session ended'} · ${size} characters${size > 160 ? ' (over 160!)' : ''}\n`,
  );
}

function explain(error: unknown) {
  if (error instanceof WireError) {
    const hint =
      error.status === 404
        ? ' (is the USSD module on, and the --gateway and --secret those the API has?)'
        : error.status === 403
          ? ' (the gateway allowlist refused this address?)'
          : '';
    process.stdout.write(`\n! ${error.message}${hint}\n`);
    return;
  }
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code === 'ECONNREFUSED')
    process.stdout.write(`\n! nothing answers at ${flags.url} (start the API: npm start; or give --url)\n`);
  else {
    const message = error instanceof Error ? error.message : String(error);
    process.stdout.write(`\n! ${message}${cause?.message ? ` (${cause.message})` : ''}\n`);
  }
}

async function leave(code: number): Promise<never> {
  try {
    if (simulator.open) await simulator.release();
  } catch {}
  rl.close();
  process.exit(code);
}

// ------------------------------------------------------------------------------------------------ the session loop
process.stdout.write(
  `Dialling ${simulator.serviceCode} as ${simulator.phone} via ${simulator.gateway} (${flags.url}/api/v1/ussd/${simulator.gateway}/…; Ctrl-D quits)\n`,
);
for (;;) {
  let screen: SimScreen | null = null;
  try {
    screen = await simulator.start();
    show(screen);
    while (screen.continue) {
      const input = await readLine('> ', asksForPin(screen.message));
      if (input === null) await leave(0);
      screen = await simulator.send(input!.trim());
      show(screen);
    }
  } catch (error) {
    explain(error);
  }
  const again = await readLine('\nDial again? [y/N] ', false);
  if (again === null || !/^y(es)?$/i.test(again.trim())) await leave(0);
}
