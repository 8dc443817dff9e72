/** The requests the load sends, each built fresh: a random signed-in payer, a new Idempotency-Key, the payer's PIN. */
import { randomBytes, randomInt } from 'node:crypto';
import { pick } from './format.ts';
import type { BuiltRequest } from './load.ts';
import { BENCH_PIN, type SeededCustomer } from './seed.ts';
import type { Payer } from './setup.ts';

let sequence = 0;
export function idempotencyKey(): string {
  sequence += 1;
  return `bench-${process.pid}-${sequence}-${randomBytes(6).toString('hex')}`;
}

/** A P2P transfer from a random signed-in payer to a random other wallet. */
export function transferRequestOf(payers: Payer[], customers: SeededCustomer[]): () => BuiltRequest {
  return () => {
    const payer = pick(payers);
    let payee = pick(customers);
    while (payee.walletId === payer.walletId) payee = pick(customers);
    return {
      method: 'POST',
      path: '/api/v1/wallet/transaction/transfer',
      headers: {
        authorization: `Bearer ${payer.token}`,
        'idempotency-key': idempotencyKey(),
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        to_wallet_number: payee.walletNumber,
        amount: 100 + randomInt(900),
        currency: 'KES',
        pin: BENCH_PIN,
      }),
    };
  };
}

/** A random signed-in customer reads their own wallet's balance. */
export function balanceRequestOf(payers: Payer[]): () => BuiltRequest {
  return () => {
    const payer = pick(payers);
    return {
      method: 'GET',
      path: `/api/v1/wallet/wallet/${payer.walletId}/balance`,
      headers: { authorization: `Bearer ${payer.token}` },
    };
  };
}
