/**
 * How the loans port runs a money action once per idempotency key (the platform's claims, as the HTTP routes use
 * them), which refusals count as definite answers to keep for a replay, and the customer as a USSD principal.
 */
import type { RequestContext } from '../../platform/audit.ts';
import { AppError } from '../../platform/error-catalogue.ts';
import type { Principal } from '../../platform/http.ts';
import { type IdempotencyClaim, type IdempotencyService, requestHash } from '../../platform/idempotency.ts';
import { stringifyWithBigInt } from '../../platform/json.ts';
import type { ApplyOutcome, RepayOutcome, UssdActionContext } from './ussd.loans.ts';

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
export async function runOnce<T, R extends T>(
  idempotency: IdempotencyService,
  customerId: string,
  action: string,
  key: string,
  request: Record<string, string | number>,
  run: (claim: IdempotencyClaim) => Promise<T>,
  replayed: (stored: unknown) => Promise<T> | T,
  refusalOf: (error: unknown) => R | null,
): Promise<T> {
  const begun = await idempotency.begin(
    `customer:${customerId}`,
    key,
    requestHash('POST', `ussd:${action}`, {}, request),
  );
  if (begun.kind === 'replay') {
    const stored = parseStored(begun.body);
    if (stored && typeof stored === 'object' && 'ussd_refusal' in stored)
      return (stored as StoredRefusal<R>).ussd_refusal;
    return replayed(stored);
  }
  const claim = begun.claim;
  try {
    return await run(claim);
  } catch (error) {
    const refusal = refusalOf(error);
    if (refusal !== null) {
      const body: StoredRefusal<R> = { ussd_refusal: refusal };
      // Stored only while the claim is this holder's and in progress; otherwise the refusal is simply answered.
      await idempotency.storeFailure(claim, 409, stringifyWithBigInt(body));
      return refusal;
    }
    // A PIN error or a failure: nothing committed, so the same step may be tried again.
    await idempotency.release(claim).catch(() => {});
    throw error;
  } finally {
    idempotency.finished(claim);
  }
}

/**
 * The customer as a USSD session's principal: the channel is `ussd` because the gateway's credential brought the
 * request (never a header). The loans services read only the type, id and channel.
 */
export function ussdPrincipal(customerId: string, context: UssdActionContext | null): Principal {
  const session = context ? `ussd:${context.gateway}:${context.sessionId}` : 'ussd';
  return {
    type: 'customer',
    id: customerId,
    sessionId: session,
    tokenId: session,
    tokenExpiresAt: 0,
    permissions: new Set(),
    roles: [],
    passwordChangeRequired: false,
    mfaEnrollmentRequired: false,
    channel: 'ussd',
  };
}

export function requestContext(customerId: string, context: UssdActionContext): RequestContext {
  return {
    actor: { type: 'customer', id: customerId },
    ip: null,
    userAgent: `ussd/${context.gateway}`,
    requestId: `ussd:${context.gateway}:${context.sessionId}`,
  };
}
