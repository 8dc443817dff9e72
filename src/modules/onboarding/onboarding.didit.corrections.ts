/**
 * Didit's `data.updated`: a reviewer at Didit corrected what was read from the document. The webhook only says that
 * something changed; the decision is always fetched (never read from the body, whatever signature verified it) and
 * applied under the registration's lock:
 *
 * - Didit has not decided yet (identity pending or in Didit's review): the fetched decision is applied as any status
 *   is (an approval then maps the corrected data; a stale approval delivered later moves nothing).
 * - Identity verified, not yet activated (the journey's later steps, the review queue, a reopened step): the identity
 *   is re-mapped as an approval maps it and compared with the declared details again; completion, or the reviewer,
 *   reads the new mismatches. A registration in the review queue gets the reason `identity_corrected`.
 * - Activated: the customer is not changed. The correction is recorded for staff: an audit entry on the registration
 *   and on the customer (field names and mismatch codes, never values), and a flag in the registration's identity
 *   summary (`corrections_after_activation`).
 *
 * Once per correction: the caller records the delivery under a key made of the fetched data (correctionKey), so the
 * same data.updated delivered again — or any delivery after it telling the same data — has no second effect.
 */
import { createHash } from 'node:crypto';
import { systemContext, writeAudit } from '../../platform/audit.ts';
import type { Executor } from '../../platform/db.ts';
import { applyDiditStatus, type DiditEffect } from './onboarding.didit.apply.ts';
import {
  compareDeclared,
  type DiditDeclared,
  type DiditIdentity,
  identityFromDecision,
  identitySummary,
  outcomeOf,
} from './onboarding.didit.mapping.ts';
import { findDiditSession } from './onboarding.didit.repository.ts';
import { type Journey, type RegistrationRow, stateOf } from './onboarding.journey.ts';
import { nextState } from './onboarding.machine.ts';
import { lockRegistration, updateRegistration } from './onboarding.repository.ts';

/** The identity fields a correction may change (liveness and face match included: a reviewer may overturn them). */
const FIELDS = [
  'first_name',
  'last_name',
  'full_name',
  'date_of_birth',
  'document_type',
  'document_number',
  'nationality',
  'issuing_state',
  'liveness',
  'face_match',
] as const satisfies readonly (keyof DiditIdentity)[];

/** The reason a registration in the review queue gets when its identity was corrected there. */
export const CORRECTED_REASON = 'identity_corrected';

/**
 * The receipt key of a data.updated delivery: the session's status and the mapped identity as fetched, hashed (the
 * receipts keep no PII). The same correction delivered again fetches the same data: the same key.
 */
export function correctionKey(sessionId: string, decision: Record<string, unknown>): string {
  const identity = identityFromDecision(sessionId, decision);
  const status = typeof decision.status === 'string' ? decision.status : '';
  const picked = Object.fromEntries(FIELDS.map((field) => [field, identity[field]]));
  const digest = createHash('sha256')
    .update(JSON.stringify({ status, identity: picked }))
    .digest('hex');
  return `data.updated:${digest.slice(0, 32)}`;
}

/** Which identity fields differ (names only, for audit and reviewers). */
export function changedFields(before: DiditIdentity | null, after: DiditIdentity): string[] {
  return FIELDS.filter((field) => JSON.stringify(before?.[field] ?? null) !== JSON.stringify(after[field]));
}

export async function applyDiditCorrection(
  tx: Executor,
  journey: Journey,
  pollAfterMinutes: number,
  sessionId: string,
  decision: Record<string, unknown>,
): Promise<DiditEffect> {
  const known = await findDiditSession(tx, sessionId);
  if (!known) return 'ignored';
  const registration = await lockRegistration(tx, known.registrationId);
  // Only the registration's current Didit session speaks for it (a restart or the CBS path replaced it).
  if (registration?.path !== 'didit' || registration.diditSessionId !== sessionId) return 'ignored';
  const state = stateOf(registration);
  const status = typeof decision.status === 'string' ? decision.status : known.status;
  if (state === 'identity_pending' || state === 'identity_review')
    return applyDiditStatus(tx, journey, pollAfterMinutes, sessionId, status, decision, 'webhook');
  // After Didit approved, a status change is status.updated's to say; data is only taken from an approval.
  if (outcomeOf(status) !== 'approved') return 'recorded';
  const stored = journey.identity<DiditIdentity>(registration);
  const corrected = identityFromDecision(sessionId, decision);
  const changed = changedFields(stored, corrected);
  if (changed.length === 0) return 'recorded';
  const declared = journey.declared<DiditDeclared>(registration);
  const mismatches = declared ? compareDeclared(declared, corrected) : [];
  const codes = mismatches.map((mismatch) => mismatch.code);
  const audit = {
    source: 'webhook',
    webhook_type: 'data.updated',
    didit_session_id: sessionId,
    changed_fields: changed,
    mismatches: codes,
  };
  if (state === 'completed') {
    await flagAfterActivation(tx, registration, audit);
    return 'recorded';
  }
  if (!nextState(state, 'didit_data_updated')) return 'ignored';
  const reasons = registration.reviewReasons ?? [];
  await journey.advance(
    tx,
    registration.id,
    'didit_data_updated',
    {
      identitySealed: journey.seal(registration.id, 'identity', corrected),
      identitySummary: {
        ...identitySummary(status, corrected, mismatches),
        corrected_at: new Date().toISOString(),
      },
      ...(state === 'in_review' && !reasons.includes(CORRECTED_REASON)
        ? { reviewReasons: [...reasons, CORRECTED_REASON] }
        : {}),
    },
    { audit },
  );
  return 'applied';
}

/** The customer stays as activation made them; staff are told (audit on both, a flag on the registration). */
async function flagAfterActivation(
  tx: Executor,
  registration: RegistrationRow,
  audit: Record<string, unknown>,
): Promise<void> {
  const context = systemContext();
  const at = new Date();
  const summary = (registration.identitySummary ?? {}) as Record<string, unknown>;
  const earlier = Array.isArray(summary.corrections_after_activation)
    ? (summary.corrections_after_activation as unknown[])
    : [];
  await updateRegistration(tx, registration.id, {
    updatedAt: at,
    identitySummary: {
      ...summary,
      corrections_after_activation: [
        ...earlier,
        { at: at.toISOString(), changed_fields: audit.changed_fields, mismatches: audit.mismatches },
      ],
    },
  });
  const after = { ...audit, customer_id: registration.customerId, registration_id: registration.id };
  await writeAudit(tx, context, {
    action: 'onboarding.identity_corrected_after_activation',
    entityType: 'registration',
    entityId: registration.id,
    after,
  });
  if (registration.customerId)
    await writeAudit(tx, context, {
      action: 'customer.identity_correction_reported',
      entityType: 'customer',
      entityId: registration.customerId,
      after,
    });
}
