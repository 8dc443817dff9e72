/**
 * What every USSD action on another module shares, whatever the area (money, loans, the account): who acts (the
 * customer as a principal on the `ussd` channel, fixed because the gateway's credential brought the request, never a
 * header), the session as the audit trail's request, and the idempotency claim that makes a gateway's redelivery of
 * a step answer the first delivery's outcome instead of acting twice. Each area keeps its own rules for which
 * refusals are definite and how a stored answer reads back (ussd.money.claims.ts, ussd.loans.claims.ts).
 */
import type { RequestContext } from '../../platform/audit.ts';
import type { Principal } from '../../platform/http.ts';
import type { IdempotencyClaim, IdempotencyService } from '../../platform/idempotency.ts';

/** The gateway session an action comes from. */
export interface UssdOrigin {
  gateway: string;
  sessionId: string;
}

/**
 * The customer as the principal of a USSD action, like the app's customer principal but for its channel; with the
 * gateway session when the action belongs to one (a payment, an application), plain `ussd` for a read.
 */
export function ussdPrincipal(customerId: string, origin: UssdOrigin | null = null): Principal {
  const session = origin ? `ussd:${origin.gateway}:${origin.sessionId}` : 'ussd';
  return {
    type: 'customer',
    id: customerId,
    sessionId: session,
    tokenId: session,
    tokenExpiresAt: 0,
    permissions: new Set(),
    roles: ['customer'],
    passwordChangeRequired: false,
    mfaEnrollmentRequired: false,
    channel: 'ussd',
  };
}

/** The audit context of an action from a USSD session: the customer, and the session standing for the request. */
export function ussdRequestContext(customerId: string, origin: UssdOrigin): RequestContext {
  return {
    actor: { type: 'customer', id: customerId },
    ip: null,
    userAgent: `ussd/${origin.gateway}`,
    // Bounded like an HTTP request id: a gateway's session id may be long.
    requestId: `ussd:${origin.gateway}:${origin.sessionId}`.slice(0, 128),
  };
}

export interface ClaimedStep<T> {
  customerId: string;
  /** From `ctx.idempotencyKey('<action>')`: one per gateway session and step. */
  key: string;
  /** The request hash (`requestHash`) of what the step acts on, never the PIN: another body under the key is refused. */
  hash: string;
  /** The stored answer of an earlier delivery, read back as the fresh run would have answered. */
  replay(stored: { status: number; body: string }): T | Promise<T>;
  run(claim: IdempotencyClaim): Promise<T>;
  /**
   * The answer for an error `run` threw, when it is one (storing it with the claim or releasing the claim as the area
   * decides); undefined when it is not, and the error goes on with the claim released for a retry.
   */
  refused(error: unknown, claim: IdempotencyClaim): Promise<T | undefined>;
}

/**
 * Runs a step once per key under the customer's scope (`customer:<id>`, the app's scope for the same customer): a
 * replay answers the stored outcome, and anything that leaves the step without an answer frees the key.
 */
export async function runStepOnce<T>(idempotency: IdempotencyService, step: ClaimedStep<T>): Promise<T> {
  const begun = await idempotency.begin(`customer:${step.customerId}`, step.key, step.hash);
  if (begun.kind === 'replay') return step.replay(begun);
  const { claim } = begun;
  try {
    try {
      return await step.run(claim);
    } catch (error) {
      const answer = await step.refused(error, claim);
      if (answer === undefined) throw error;
      return answer;
    }
  } catch (error) {
    await idempotency.release(claim).catch(() => {});
    throw error;
  } finally {
    idempotency.finished(claim);
  }
}
