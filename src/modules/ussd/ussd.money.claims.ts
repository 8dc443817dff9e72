/**
 * One USSD money action under an idempotency claim: the same gateway step delivered again (with the same key) gets
 * the stored outcome back instead of running again, and the fresh run and a replay are read from the same stored
 * body, so both render the same screen.
 *
 * The payment engine stores its own answers with the claim (a completed payment, and the refusals it records as
 * failed transactions). A definite refusal it does not store (a locked PIN, an unknown biller, a refusal before the
 * engine) is stored here; a wrong PIN and anything else (a database outage, a 5xx) release the claim, so the step can
 * run again.
 */
import type { RequestContext } from '../../platform/audit.ts';
import { AppError, errorBody } from '../../platform/errors.ts';
import type { IdempotencyClaim, IdempotencyService } from '../../platform/idempotency.ts';
import { requestHash } from '../../platform/idempotency.ts';
import { stringifyWithBigInt } from '../../platform/json.ts';
import { runStepOnce } from './ussd.claims.ts';

/** What a money action came to, as the journeys render it (a replay gives the same value). */
export type MoneyOutcome =
  | {
      kind: 'done';
      reference: string;
      amount: bigint;
      /** Fee and duty together: what the customer paid on top of the amount. */
      charges: bigint;
      currency: string;
      /** True when this is the stored outcome of an earlier delivery of the same step. */
      replayed: boolean;
      /** Held for compliance review: nothing credited yet (the customer is told, without the reason). */
      held?: boolean;
    }
  | {
      kind: 'refused';
      /** The error code (INSUFFICIENT_BALANCE, INVALID_PIN, PIN_LOCKED, LIMIT_EXCEEDED, USSD_USE_APP…). */
      code: string;
      details: Record<string, unknown>;
      replayed: boolean;
    };

/**
 * Statuses of definite refusals: kept so a redelivery answers the same and spends nothing. A wrong PIN (401) is not
 * kept: the key is the confirmation state's, and the customer types the PIN again in that same state.
 */
const DEFINITE = new Set([400, 403, 404, 409, 422, 423]);

export function outcomeOf(status: number, body: unknown, replayed: boolean): MoneyOutcome {
  const record = (body ?? {}) as Record<string, unknown>;
  if (status < 400) {
    const amount = BigInt(String(record.amount ?? 0));
    const total = BigInt(String(record.total ?? record.amount ?? 0));
    return {
      kind: 'done',
      reference: String(record.reference ?? ''),
      amount,
      charges: total - amount,
      currency: String(record.currency ?? ''),
      replayed,
      held: record.status === 'held',
    };
  }
  const details = record.details;
  return {
    kind: 'refused',
    code: String(record.error_code ?? 'UNKNOWN'),
    details: details && typeof details === 'object' ? (details as Record<string, unknown>) : {},
    replayed,
  };
}

export interface ClaimedAction {
  customerId: string;
  /** From `ctx.idempotencyKey('<action>')`: one per gateway session and step. */
  key: string;
  /** The action's name and what it acts on (never the PIN): another body under the same key is refused. */
  action: string;
  request: Record<string, string>;
  context: RequestContext;
}

/**
 * Runs `run` under the claim, or answers the stored outcome. `run` returns the transaction view the engine stored with
 * the claim (or throws an AppError).
 */
export function runClaimed(
  idempotency: IdempotencyService,
  action: ClaimedAction,
  run: (claim: IdempotencyClaim) => Promise<unknown>,
): Promise<MoneyOutcome> {
  return runStepOnce<MoneyOutcome>(idempotency, {
    customerId: action.customerId,
    key: action.key,
    hash: requestHash('USSD', action.action, {}, action.request),
    replay: (stored) => outcomeOf(stored.status, JSON.parse(stored.body), true),
    async run(claim) {
      const view = await run(claim);
      // The bytes stored with the payment, parsed as a replay will parse them.
      const stored = claim.response;
      if (stored) return outcomeOf(stored.status, JSON.parse(stored.body), false);
      return outcomeOf(201, JSON.parse(stringifyWithBigInt(view)), false);
    },
    async refused(error, claim) {
      if (!(error instanceof AppError)) return undefined;
      // The engine stored this refusal with its failed-transaction record: that is the answer.
      if (claim.response) return outcomeOf(claim.response.status, JSON.parse(claim.response.body), false);
      const body = errorBody(error, action.context.requestId ?? '');
      if (error.errorCode === 'INVALID_PIN') {
        await idempotency.release(claim);
        return outcomeOf(error.statusCode, JSON.parse(stringifyWithBigInt(body)), false);
      }
      if (!DEFINITE.has(error.statusCode)) return undefined;
      const stored = await idempotency.storeFailure(claim, error.statusCode, stringifyWithBigInt(body));
      // Not stored: a takeover ran the step meanwhile; its answer is the step's, so this one is not definite.
      if (!stored) return undefined;
      return outcomeOf(error.statusCode, JSON.parse(stringifyWithBigInt(body)), false);
    },
  });
}
