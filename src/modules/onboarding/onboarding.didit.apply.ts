/**
 * What Didit says of a session (webhook, callback or poll), applied to its registration: the Didit status → the
 * machine's step, with the mapped identity (approved), the readable reason (declined, restart), or only the summary
 * (in review). Moves nothing when the step is not allowed in the registration's state (a stale or shuffled
 * delivery) or the session is no longer the registration's current one (a restart opened another).
 */
import type { Executor } from '../../platform/db.ts';
import {
  compareDeclared,
  type DiditDeclared,
  declineReason,
  identityFromDecision,
  identitySummary,
  isFinalStatus,
  outcomeOf,
  restartReason,
} from './onboarding.didit.mapping.ts';
import { findDiditSession, lockDiditSession, updateDiditSession } from './onboarding.didit.repository.ts';
import { type Journey, stateOf } from './onboarding.journey.ts';
import { nextState, type RegistrationStep } from './onboarding.machine.ts';
import { lockRegistration, type RegistrationPatch } from './onboarding.repository.ts';

export type DiditEffect = 'applied' | 'recorded' | 'ignored';

const STEP_OF = {
  approved: 'didit_approved',
  declined: 'didit_declined',
  review: 'didit_in_review',
  restart: 'didit_expired',
  wait: null,
} as const satisfies Record<string, RegistrationStep | null>;

const MINUTE = 60_000;

/**
 * Applies what Didit says of a session to its registration, under the registration's lock (taken before the
 * session's: one lock order for webhook, callback and polling). Moves the registration only when the machine
 * allows the step in its state and the session is still the registration's current one.
 */
export async function applyDiditStatus(
  tx: Executor,
  journey: Journey,
  pollAfterMinutes: number,
  sessionId: string,
  status: string,
  decision: Record<string, unknown> | null,
  source: 'webhook' | 'callback' | 'poll',
): Promise<DiditEffect> {
  const known = await findDiditSession(tx, sessionId);
  if (!known) return 'ignored';
  const registration = await lockRegistration(tx, known.registrationId);
  const session = await lockDiditSession(tx, sessionId);
  if (!registration || !session) return 'ignored';
  const now = new Date();
  const state = stateOf(registration);
  const current = registration.diditSessionId === sessionId;
  const waiting = state === 'identity_pending' || state === 'identity_review';
  const final = isFinalStatus(status);
  await updateDiditSession(tx, sessionId, {
    status,
    lastEventAt: now,
    ...(final || !current || !waiting
      ? { finishedAt: session.finishedAt ?? now, nextPollAt: null }
      : source === 'webhook'
        ? { nextPollAt: new Date(now.getTime() + pollAfterMinutes * MINUTE) }
        : {}),
  });
  const outcome = outcomeOf(status);
  const step = STEP_OF[outcome];
  if (!current || !step) return current ? 'recorded' : 'ignored';
  if (!nextState(state, step)) return 'ignored';
  if (step === 'didit_in_review' && state === 'identity_review') return 'recorded';
  let patch: RegistrationPatch;
  const audit: Record<string, unknown> = { didit_status: status, source, didit_session_id: sessionId };
  if (outcome === 'approved') {
    const identity = identityFromDecision(sessionId, decision ?? {});
    const declared = journey.declared<DiditDeclared>(registration);
    const mismatches = declared ? compareDeclared(declared, identity) : [];
    audit.mismatches = mismatches.map((mismatch) => mismatch.code);
    patch = {
      identitySealed: journey.seal(registration.id, 'identity', identity),
      identitySummary: identitySummary(status, identity, mismatches),
      outcomeReason: null,
    };
  } else if (outcome === 'declined') {
    patch = { identitySummary: identitySummary(status, null, []), outcomeReason: declineReason(decision) };
  } else if (outcome === 'restart') {
    patch = { identitySummary: identitySummary(status, null, []), outcomeReason: restartReason(status) };
  } else {
    patch = { identitySummary: identitySummary(status, null, []) };
  }
  await journey.advance(tx, registration.id, step, patch, { audit });
  return 'applied';
}
