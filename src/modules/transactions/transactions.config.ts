/** The transactions module's own environment variables (parsed with the rest at start-up; `.env.example` lists them). */
import { oneOf, variable } from '../../platform/config-spec.ts';

export const transactionsConfig = {
  PAYMENT_COMMIT: variable(
    'How a checked payment commits: one-call (one PostgreSQL call that locks, re-checks and writes everything) or stepwise (lock, check again and write statement by statement; diagnosis and comparison).',
    'one-call',
    oneOf('one-call', 'stepwise'),
  ),
};

export type PaymentCommit = 'one-call' | 'stepwise';
