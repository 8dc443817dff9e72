/**
 * FINERACT wiring: the core-banking client built from config (none when FINERACT_BASE_URL is unset, so bank routes
 * answer 503 CBS_NOT_CONFIGURED instead of pretending), and how its failures read for a money movement.
 */
import type { Config } from '../../config.ts';
import {
  type CoreBankingPort,
  FineractClient,
  FineractError,
} from '../../integrations/fineract/fineract.client.ts';
import { DependencyUnavailableError } from '../../platform/errors.ts';
import { bankErrors } from './banking.errors.ts';

export function coreBankingFrom(config: Config, fetchImpl?: typeof fetch): CoreBankingPort | null {
  if (!config.FINERACT_BASE_URL || !config.FINERACT_USERNAME || !config.FINERACT_PASSWORD) return null;
  return new FineractClient({
    baseUrl: config.FINERACT_BASE_URL,
    username: config.FINERACT_USERNAME,
    password: config.FINERACT_PASSWORD,
    tenantId: config.FINERACT_TENANT_ID,
    paymentTypeId: config.FINERACT_PAYMENT_TYPE_ID,
    timeoutMs: config.FINERACT_TIMEOUT_MS,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
}

/**
 * What a failed posting means for the money:
 * - `rejected`: Fineract answered and refused it (insufficient funds, account closed or gone): nothing was booked.
 * - `refused`: Fineract refused our credentials before looking at the posting: nothing was booked, but the fault is
 *   ours, not the customer's.
 * - `unknown`: no usable answer (timeout, 5xx, reset, malformed body): the bank may have booked it.
 */
export type PostingFailure =
  | { kind: 'rejected'; code: string; reason: string }
  | { kind: 'refused' }
  | { kind: 'unknown'; cause: string };

export function classifyPostingFailure(error: unknown): PostingFailure {
  if (error instanceof FineractError) {
    if (error.kind === 'rejected' || error.kind === 'not_found')
      return { kind: 'rejected', code: error.globalisationCode, reason: error.userMessage };
    if (error.kind === 'unauthorized') return { kind: 'refused' };
  }
  const cause = error instanceof DependencyUnavailableError ? 'unavailable' : 'unexpected';
  return { kind: 'unknown', cause };
}

/** A read (account inquiry) that fails is just unavailability: nothing moved, the caller may retry. */
export async function cbsRead<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof FineractError || error instanceof DependencyUnavailableError)
      throw bankErrors.cbsUnavailable();
    throw error;
  }
}

/**
 * The posting date sent to Fineract: the UTC calendar date. Tenants east of UTC (East Africa is UTC+3) are never
 * behind it, so it is never a future date for them (Fineract refuses future-dated transactions).
 */
export function postingDate(now: Date = new Date()): string {
  return now.toISOString().slice(0, 10);
}
