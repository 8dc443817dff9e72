/**
 * Where a USSD step's time goes: the ussd scenario's sessions replayed one request at a time through `app.inject`
 * in-process on the bench database (bench/lib/anatomy.ts counts every PostgreSQL statement and Redis command on the
 * client side), next to the app's transfer. The steps of a session depend on each other, so each case sends whole
 * sessions in order, and the figures are per step (averaged over the session's steps).
 */
import { randomInt } from 'node:crypto';
import { encodeStep, newSessionId } from '../../scripts/ussd-sim/index.ts';
import { type Anatomy, type InjectRequest, measureAnatomy } from '../lib/anatomy.ts';
import { f1, f2, row } from '../lib/format.ts';
import type { SeededCustomer } from '../lib/seed.ts';

export interface Session {
  payer: SeededCustomer;
  payee: SeededCustomer;
}

/** The Africa's Talking requests of scripted sessions, one at a time, each session after the one before. */
function sessionRequests(
  customers: SeededCustomer[],
  secret: string,
  inputs: readonly ((session: Session) => string | null)[],
): () => InjectRequest {
  let step = inputs.length;
  let session: Session = { payer: customers[0]!, payee: customers[1]! };
  let sessionId = '';
  let typed: string[] = [];
  return () => {
    if (step === inputs.length) {
      step = 0;
      const payer = customers[randomInt(customers.length)]!;
      let payee = customers[randomInt(customers.length)]!;
      while (payee.walletId === payer.walletId) payee = customers[randomInt(customers.length)]!;
      session = { payer, payee };
      sessionId = newSessionId('at');
      typed = [];
    }
    const input = inputs[step]!(session);
    if (input !== null) typed.push(input);
    step += 1;
    const wire = encodeStep('at', {
      sessionId,
      phone: session.payer.phone,
      serviceCode: '*384*123#',
      network: '63902',
      inputs: typed,
      sequence: step,
      kind: input === null ? 'dial' : 'input',
    });
    return { method: 'POST', url: `/api/v1/ussd/at/${secret}`, headers: wire.headers, payload: wire.body };
  };
}

export async function ussdAnatomy(
  deps: Parameters<typeof measureAnatomy>[0],
  options: {
    customers: SeededCustomer[];
    secret: string;
    balance: readonly ((session: Session) => string | null)[];
    send: readonly ((session: Session) => string | null)[];
    transfer: () => InjectRequest;
  },
): Promise<Anatomy[]> {
  const { customers, secret } = options;
  const measured = await measureAnatomy(deps, [
    {
      name: `ussd balance session (per step, ${options.balance.length} steps)`,
      count: options.balance.length * 30,
      warmup: options.balance.length * 10,
      next: sessionRequests(customers, secret, options.balance),
    },
    {
      name: `ussd send-money session (per step, ${options.send.length} steps)`,
      count: options.send.length * 20,
      warmup: options.send.length * 5,
      next: sessionRequests(customers, secret, options.send),
    },
    { name: 'app transfer (per request)', count: 60, warmup: 20, next: options.transfer },
  ]);
  return measured.anatomies;
}

export function ussdAnatomyLines(anatomies: Anatomy[]): string[] {
  return [
    '',
    'Where a step goes (in-process, one request at a time through `app.inject` on the bench database; every PostgreSQL statement and Redis command counted on the client side, as in the anatomy scenario):',
    '',
    '| request | statements | of which BEGIN | Redis commands | wall ms | DB ms | app CPU ms | failed |',
    '|---|---|---|---|---|---|---|---|',
    ...anatomies.map((entry) =>
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
    '',
    ...anatomies
      .filter((entry) => entry.name.startsWith('ussd send'))
      .flatMap((entry) => [
        `Statements per step of the send-money session (${f1(entry.statementsPerRequest)} in all):`,
        '',
        '| per step | mean ms | statement |',
        '|---|---|---|',
        ...entry.top
          .slice(0, 15)
          .map((statement) =>
            row([
              f2(statement.perRequest),
              f2(statement.meanMs),
              `\`${statement.text.slice(0, 140).replace(/\|/g, '\\|')}${statement.text.length > 140 ? '…' : ''}\``,
            ]),
          ),
      ]),
  ];
}
