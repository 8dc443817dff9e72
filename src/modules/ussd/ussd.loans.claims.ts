/**
 * How the loans port runs a money action once per idempotency key (the platform's claims, as the HTTP routes use
 * them, through ussd.claims.ts) and which refusals count as definite answers to keep for a replay.
 */
import { AppError } from '../../platform/error-catalogue.ts';
import { type IdempotencyClaim, type IdempotencyService, requestHash } from '../../platform/idempotency.ts';
import { stringifyWithBigInt } from '../../platform/json.ts';
import { runStepOnce } from './ussd.claims.ts';
import type { ApplyOutcome, RepayOutcome } from './ussd.loans.ts';

/** The outcomes a replay of a refusal sends back: stored with the claim as this body. */
interface StoredRefusal<R> {
  ussd_refusal: R;
}

/** Stored JSON read back with its integers exact (amounts are JSON integers). */
function parseStored(body: string): unknown {
  return JSON.parse(body, (_key, value, context?: { source?: string }) =>
    typeof value === 'number' && Number.isInteger(value) && context?.source ? BigInt(context.source) : value,
  );
}

export function applyRefusalOf(error: unknown): Extract<ApplyOutcome, { kind: 'refused' }> | null {
  if (!(error instanceof AppError)) return null;
  switch (error.errorCode) {
    case 'LOAN_NOT_ELIGIBLE': {
      const reasons = (error.details as { reasons?: { code: string }[] } | null)?.reasons ?? [];
      return { kind: 'refused', code: 'NOT_ELIGIBLE', reasons: reasons.map((reason) => reason.code) };
    }
    case 'LOAN_AMOUNT_OUT_OF_RANGE':
    case 'LOAN_TERM_OUT_OF_RANGE':
      return { kind: 'refused', code: 'OUT_OF_RANGE', reasons: [] };
    case 'LOAN_PRODUCT_RETIRED':
    case 'LOAN_PRODUCT_NOT_FOUND':
      return { kind: 'refused', code: 'PRODUCT_UNAVAILABLE', reasons: [] };
    default:
      return null;
  }
}

export function repayRefusalOf(error: unknown): Extract<RepayOutcome, { kind: 'refused' }> | null {
  if (!(error instanceof AppError)) return null;
  const code = (
    {
      LOAN_REPAYMENT_INSUFFICIENT_FUNDS: 'INSUFFICIENT_FUNDS',
      LOAN_NOTHING_DUE: 'NOTHING_DUE',
      LOAN_NOT_REPAYABLE: 'NOT_REPAYABLE',
      WALLET_NOT_ACTIVE: 'WALLET_UNAVAILABLE',
    } as const
  )[error.errorCode as string];
  return code ? { kind: 'refused', code } : null;
}

/**
 * Runs a money action once per key, as the HTTP routes do: the use case stores its answer with its effect
 * (`claim.commit`), a definite refusal is stored after it, anything else frees the key for a retry.
 */
export function runOnce<T, R extends T>(
  idempotency: IdempotencyService,
  customerId: string,
  action: string,
  key: string,
  request: Record<string, string | number>,
  run: (claim: IdempotencyClaim) => Promise<T>,
  replayed: (stored: unknown) => Promise<T> | T,
  refusalOf: (error: unknown) => R | null,
): Promise<T> {
  return runStepOnce<T>(idempotency, {
    customerId,
    key,
    hash: requestHash('POST', `ussd:${action}`, {}, request),
    replay(begun) {
      const stored = parseStored(begun.body);
      if (stored && typeof stored === 'object' && 'ussd_refusal' in stored)
        return (stored as StoredRefusal<R>).ussd_refusal;
      return replayed(stored);
    },
    run,
    async refused(error, claim) {
      const refusal = refusalOf(error);
      // A PIN error or a failure: nothing committed, so the same step may be tried again.
      if (refusal === null) return undefined;
      const body: StoredRefusal<R> = { ussd_refusal: refusal };
      // Stored only while the claim is this holder's and in progress; otherwise the refusal is simply answered.
      await idempotency.storeFailure(claim, 409, stringifyWithBigInt(body));
      return refusal;
    },
  });
}
