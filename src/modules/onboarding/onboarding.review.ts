/**
 * The staged manual-approval queue: registrations in `in_review` (completion found a reason not to approve them
 * automatically). A reviewer (permission `onboarding:review`) claims one — a claim lasts CLAIM_MINUTES (claiming
 * again renews it), then another may take it over — and approves it (activation, as automatic approval does,
 * in the same transaction), rejects it with a reason the customer reads, or requests information, which reopens a
 * step for the customer (the identity step, or corrected details) through the journey's state machine. Deciding
 * the same way twice answers the same.
 */
import { and, asc, eq, sql } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import type { Activation } from './onboarding.activation.ts';
import { type DeclaredDetails, type IdentityResult, mismatchCodes } from './onboarding.cbs.ts';
import { onboardingErrors } from './onboarding.errors.ts';
import { type Journey, maskPhone, type RegistrationRow } from './onboarding.journey.ts';
import type { RegistrationState, RegistrationStep } from './onboarding.machine.ts';
import { lockRegistration } from './onboarding.repository.ts';
import { registrationReviews } from './onboarding.review.tables.ts';
import { registrations } from './onboarding.tables.ts';

export const CLAIM_MINUTES = 30;

type ReviewRow = typeof registrationReviews.$inferSelect;
type ReviewStatus = ReviewRow['status'];

export interface ReviewDecision {
  registration_id: string;
  state: RegistrationState;
  review_status: ReviewStatus;
  claimed_by: string | null;
  customer_id: string | null;
}

export type ReviewFilter = 'open' | 'claimed' | 'mine' | 'all';

/** The step a request for information reopens: the identity step, or the declared details. */
const REOPENED: Record<'identity' | 'details', string> = { identity: 'identity', details: 'details_update' };

export class ReviewQueue {
  readonly #journey: Journey;
  readonly #activation: Activation;

  constructor(journey: Journey, activation: Activation) {
    this.#journey = journey;
    this.#activation = activation;
  }

  async list(filter: ReviewFilter, limit: number, reviewerId: string | null) {
    const rows = await this.#journey.db
      .select({ registration: registrations, review: registrationReviews })
      .from(registrations)
      .leftJoin(registrationReviews, eq(registrationReviews.registrationId, registrations.id))
      .where(eq(registrations.state, 'in_review'))
      .orderBy(asc(registrations.updatedAt), asc(registrations.id))
      .limit(500);
    const now = Date.now();
    const items = rows
      .map(({ registration, review }) => ({ registration, review, claimant: liveClaimant(review, now) }))
      .filter(({ claimant }) => {
        if (filter === 'open') return claimant === null;
        if (filter === 'claimed') return claimant !== null;
        if (filter === 'mine') return claimant !== null && claimant === reviewerId;
        return true;
      })
      .slice(0, limit);
    return {
      items: items.map(({ registration, review, claimant }) => this.#item(registration, review, claimant)),
    };
  }

  #item(row: RegistrationRow, review: ReviewRow | null, claimant: string | null) {
    const declared = this.#journey.declared<DeclaredDetails>(row);
    const identity = this.#journey.identity<IdentityResult>(row);
    const name = (parts: (string | null | undefined)[]) => parts.filter(Boolean).join(' ') || null;
    return {
      registration_id: row.id,
      state: row.state as RegistrationState,
      path: (row.path as 'cbs' | 'didit' | null) ?? null,
      phone: maskPhone(row.phone),
      reasons: row.reviewReasons ?? [],
      mismatches: mismatchCodes(this.#journey, row) ?? [],
      declared_name: name([declared?.first_name, declared?.middle_name, declared?.last_name]),
      identity_name: name([identity?.first_name, identity?.middle_name, identity?.last_name]),
      cbs_client_id: row.cbsClientId,
      claimed_by: claimant,
      claimed_at: claimant ? (review?.claimedAt?.toISOString() ?? null) : null,
      rounds: review?.rounds ?? 0,
      // The last move of the registration was into review (completion, or corrected details).
      waiting_since: row.updatedAt.toISOString(),
    };
  }

  async claim(registrationId: string, context: RequestContext): Promise<ReviewDecision> {
    const reviewer = reviewerOf(context);
    return inTransaction(this.#journey.db, async (tx) => {
      const row = await this.#lockInReview(tx, registrationId, 'review_approve');
      const review = await findReview(tx, registrationId);
      const claimant = liveClaimant(review, Date.now());
      if (claimant && claimant !== reviewer) throw onboardingErrors.REGISTRATION_REVIEW_CLAIMED();
      const now = new Date();
      const newRound = review !== null && review.status !== 'claimed';
      const [saved] = await tx
        .insert(registrationReviews)
        .values({ registrationId, status: 'claimed', claimedBy: reviewer, claimedAt: now })
        .onConflictDoUpdate({
          target: registrationReviews.registrationId,
          set: {
            status: 'claimed',
            claimedBy: reviewer,
            claimedAt: now,
            updatedAt: now,
            ...(newRound ? { rounds: sql`${registrationReviews.rounds} + 1` } : {}),
          },
        })
        .returning();
      await writeAudit(tx, context, {
        action: 'onboarding.review_claim',
        entityType: 'registration',
        entityId: registrationId,
        before: { claimed_by: review?.claimedBy ?? null, status: review?.status ?? null },
        after: { claimed_by: reviewer, round: saved!.rounds },
      });
      return decision(row, saved!);
    });
  }

  async approve(registrationId: string, note: string | undefined, context: RequestContext) {
    return this.#decide(registrationId, 'approved', context, async (tx, row) => {
      const activated = await this.#activation.activate(tx, row, context, 'manual');
      const { registration } = await this.#journey.advance(
        tx,
        registrationId,
        'review_approve',
        { customerId: activated.customerId, completedAt: new Date(), outcomeReason: null },
        { context, audit: { customer_id: activated.customerId, note: note ?? null } },
      );
      return { registration, reason: note ?? null, step: null };
    });
  }

  async reject(registrationId: string, reason: string, context: RequestContext) {
    return this.#decide(registrationId, 'rejected', context, async (tx) => {
      const { registration } = await this.#journey.advance(
        tx,
        registrationId,
        'review_reject',
        { outcomeReason: reason, completedAt: new Date() },
        { context },
      );
      return { registration, reason, step: null };
    });
  }

  async requestInfo(
    registrationId: string,
    step: 'identity' | 'details',
    message: string,
    context: RequestContext,
  ) {
    return this.#decide(registrationId, 'info_requested', context, async (tx) => {
      const { registration } = await this.#journey.advance(
        tx,
        registrationId,
        'review_request_info',
        { reopenedStep: REOPENED[step], outcomeReason: message },
        { context, audit: { reopened_step: REOPENED[step] } },
      );
      return { registration, reason: message, step: REOPENED[step] };
    });
  }

  /** A decision by the claiming reviewer; the same decision again (already taken) answers the same. */
  async #decide(
    registrationId: string,
    outcome: Exclude<ReviewStatus, 'claimed'>,
    context: RequestContext,
    act: (
      tx: Executor,
      row: RegistrationRow,
    ) => Promise<{ registration: RegistrationRow; reason: string | null; step: string | null }>,
  ): Promise<ReviewDecision> {
    const reviewer = reviewerOf(context);
    return inTransaction(this.#journey.db, async (tx) => {
      const current = await lockRegistration(tx, registrationId);
      if (!current) throw commonErrors.notFound('Registration');
      const review = await findReview(tx, registrationId);
      if (review?.status === outcome && review.decidedBy === reviewer && current.state !== 'in_review')
        return decision(current, review);
      const step: RegistrationStep = STEP_OF[outcome];
      this.#journey.assertAllowed(current, step);
      const claimant = liveClaimant(review, Date.now());
      if (claimant !== reviewer) {
        throw claimant
          ? onboardingErrors.REGISTRATION_REVIEW_CLAIMED()
          : onboardingErrors.REGISTRATION_REVIEW_NOT_CLAIMED();
      }
      const { registration, reason, step: reopened } = await act(tx, current);
      const now = new Date();
      const [saved] = await tx
        .update(registrationReviews)
        .set({
          status: outcome,
          decidedBy: reviewer,
          decidedAt: now,
          decisionReason: reason,
          requestedStep: reopened,
          updatedAt: now,
          ...(outcome === 'info_requested' ? { claimedBy: null, claimedAt: null } : {}),
        })
        .where(eq(registrationReviews.registrationId, registrationId))
        .returning();
      return decision(registration, saved!);
    });
  }

  async #lockInReview(tx: Executor, registrationId: string, step: RegistrationStep) {
    const row = await lockRegistration(tx, registrationId);
    if (!row) throw commonErrors.notFound('Registration');
    this.#journey.assertAllowed(row, step);
    return row;
  }
}

const STEP_OF: Record<Exclude<ReviewStatus, 'claimed'>, RegistrationStep> = {
  approved: 'review_approve',
  rejected: 'review_reject',
  info_requested: 'review_request_info',
};

function reviewerOf(context: RequestContext): string {
  if (context.actor.type !== 'user' || !context.actor.id) throw commonErrors.forbidden('Staff only');
  return context.actor.id;
}

async function findReview(tx: Executor, registrationId: string): Promise<ReviewRow | null> {
  const [row] = await tx
    .select()
    .from(registrationReviews)
    .where(and(eq(registrationReviews.registrationId, registrationId)))
    .limit(1);
  return row ?? null;
}

/** Who holds a live claim (made within CLAIM_MINUTES), or null. */
function liveClaimant(review: ReviewRow | null, now: number): string | null {
  if (review?.status !== 'claimed' || !review.claimedBy || !review.claimedAt) return null;
  return now - review.claimedAt.getTime() < CLAIM_MINUTES * 60_000 ? review.claimedBy : null;
}

function decision(row: RegistrationRow, review: ReviewRow): ReviewDecision {
  return {
    registration_id: row.id,
    state: row.state as RegistrationState,
    review_status: review.status,
    claimed_by: review.status === 'claimed' ? review.claimedBy : null,
    customer_id: row.customerId,
  };
}
