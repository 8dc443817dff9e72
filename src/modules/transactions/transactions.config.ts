/** The transactions module's own environment variables (parsed with the rest at start-up; `.env.example` lists them). */
import { integer, oneOf, variable } from '../../platform/config-spec.ts';

export const transactionsConfig = {
  PAYMENT_COMMIT: variable(
    'How a checked payment commits: batched (one PostgreSQL call that locks, re-checks and writes everything, the commits that arrive while earlier calls are in flight coalesced into one call: group commit), one-call (the same call, one payment at a time) or stepwise (lock, check again and write statement by statement; diagnosis and comparison).',
    'batched',
    oneOf('batched', 'one-call', 'stepwise'),
  ),
  PAYMENT_COMMIT_BATCH_MAX: variable(
    'With PAYMENT_COMMIT=batched: the most payments one commit call carries (each is a subtransaction; PostgreSQL keeps 64 per transaction in shared memory, so at most 60).',
    '32',
    integer(2, 60),
  ),
  PAYMENT_COMMIT_CONCURRENCY: variable(
    'With PAYMENT_COMMIT=batched: commit calls in flight at once per API process; a payment arriving while all are busy waits for the next batch (1 makes the largest batches).',
    '2',
    integer(1, 64),
  ),
};

export type PaymentCommit = 'batched' | 'one-call' | 'stepwise';
