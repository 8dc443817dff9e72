/**
 * 4. login: customer phone + PIN logins, staff password logins (argon2id, its CPU cost per verification measured
 * here) and token refreshes, each refresh token used once. Reported, no goal.
 */
import { randomInt } from 'node:crypto';
import { ARGON2_PARAMETERS, hashPassword, verifyPassword } from '../../src/platform/crypto.ts';
import { cpuLines, errorText, f0, f1, HEADER, log, pick, row } from '../lib/format.ts';
import type { LoadResult } from '../lib/load.ts';
import { S } from '../lib/options.ts';
import { raw, section } from '../lib/report.ts';
import type { Runner } from '../lib/runner.ts';
import { BENCH_PIN } from '../lib/seed.ts';
import { STAFF_PASSWORD } from '../lib/setup.ts';

export async function loginScenario(bench: Runner): Promise<void> {
  const { customers, staff } = bench.primary;
  const c = S.loginConnections;
  const refreshPool: string[] = [];
  const onAnswer = (status: number, body: string) => {
    if (status === 200) refreshPool.push((JSON.parse(body) as { refresh_token: string }).refresh_token);
  };
  const customerLogin = await bench.drive({
    url: bench.primary.base,
    connections: c,
    seconds: S.loginSeconds,
    warmupSeconds: S.warmup,
    next: () => {
      const customer = pick(customers);
      return {
        method: 'POST',
        path: '/api/v1/auth/customer/login',
        headers: {
          'content-type': 'application/json',
          // Customers on their own addresses: the per-IP PIN sign-in limit counts in-flight attempts too.
          'x-forwarded-for': `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`,
        },
        body: JSON.stringify({ phone: customer.phone, pin: BENCH_PIN }),
      };
    },
    onAnswer,
    cpuPids: bench.cpuOf(bench.server, bench.primary),
  });
  log(`login: customer PIN ${f0(customerLogin.rps)}/s`);
  const staffLogin = await bench.measure(
    () => ({
      method: 'POST',
      path: '/api/v1/auth/login',
      headers: {
        'content-type': 'application/json',
        // Many clients behind the load balancer (TRUST_PROXY=true): the per-IP login limit is per client.
        'x-forwarded-for': `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`,
      },
      body: JSON.stringify({ username: pick(staff), password: STAFF_PASSWORD }),
    }),
    c,
    S.loginSeconds,
  );
  log(`login: staff password ${f0(staffLogin.rps)}/s`);
  let starved = 0;
  const refresh = await bench.drive({
    url: bench.primary.base,
    connections: c,
    seconds: S.loginSeconds,
    warmupSeconds: S.warmup,
    next: () => {
      const token = refreshPool.shift();
      if (!token) starved += 1;
      return {
        method: 'POST',
        path: '/api/v1/auth/refresh',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: token ?? 'starved' }),
      };
    },
    onAnswer,
    cpuPids: bench.cpuOf(bench.server, bench.primary),
  });
  log(`login: refresh ${f0(refresh.rps)}/s (pool ${refreshPool.length}, starved ${starved})`);
  const argon = await argon2Cost();
  raw.login = { customerLogin, staffLogin, refresh, argon };
  section(loginSection(c, customerLogin, staffLogin, refresh, argon));
}

/** What one staff password verification costs in CPU, measured in this process. */
async function argon2Cost(): Promise<{ msPerVerification: number; parameters: string }> {
  const hash = await hashPassword(STAFF_PASSWORD);
  const started = performance.now();
  for (let index = 0; index < 10; index += 1) await verifyPassword(STAFF_PASSWORD, hash);
  const { memoryKiB, passes, parallelism } = ARGON2_PARAMETERS;
  return {
    msPerVerification: (performance.now() - started) / 10,
    parameters: `argon2id m=${memoryKiB} KiB, t=${passes}, p=${parallelism}`,
  };
}

function loginSection(
  c: number,
  customer: LoadResult,
  staffLogin: LoadResult,
  refresh: LoadResult,
  argon: { msPerVerification: number; parameters: string },
): string {
  return [
    '## 4. login — customer PIN logins, staff password logins, token refreshes',
    '',
    `${c} connections, 1 API worker, ${S.loginSeconds} s each. Customers: random among ${S.customers.toLocaleString('en-US')} (phone + PIN). Staff: ${S.staffUsers} users, each request from a different client address (\`X-Forwarded-For\`, TRUST_PROXY=true) so the 200-per-IP-per-15-min login limit applies per client as it would behind a load balancer. Refresh: the refresh tokens the customer-login run returned, each used once (rotation). Staff passwords cost one ${argon.parameters} verification: ${f1(argon.msPerVerification)} ms of CPU each, measured in this process — deliberate; it bounds staff logins to about ${f0((2 * 1000) / argon.msPerVerification)}/s on 2 cores.`,
    '',
    HEADER,
    row([
      'customer PIN login',
      c,
      1,
      f0(customer.rps),
      '—',
      '—',
      '(reported)',
      f1(customer.p50),
      f1(customer.p90),
      f1(customer.p99),
      errorText(customer),
      '—',
    ]),
    row([
      `staff password login (${argon.parameters})`,
      c,
      1,
      f0(staffLogin.rps),
      '—',
      '—',
      '(reported)',
      f1(staffLogin.p50),
      f1(staffLogin.p90),
      f1(staffLogin.p99),
      errorText(staffLogin),
      '—',
    ]),
    row([
      'token refresh (rotation)',
      c,
      1,
      f0(refresh.rps),
      '—',
      '—',
      '(reported)',
      f1(refresh.p50),
      f1(refresh.p90),
      f1(refresh.p99),
      errorText(refresh),
      '—',
    ]),
    '',
    cpuLines([
      { label: 'customer login', cpu: customer.cpu, ok: customer.ok },
      { label: 'staff login', cpu: staffLogin.cpu, ok: staffLogin.ok },
      { label: 'refresh', cpu: refresh.cpu, ok: refresh.ok },
    ]),
  ].join('\n');
}
