/**
 * The customer's answer to a reviewer's request for corrected details (`info_requested` with the `details_update`
 * step reopened): the declared name and date of birth are replaced, compared again with the identity the source
 * holds (the bank's client for the CBS path, the verified document for Didit) by the same rules, and the
 * registration goes back to the review queue for a new round. Nothing is approved automatically from here.
 */
import type { RequestContext } from '../../platform/audit.ts';
import { inTransaction } from '../../platform/db.ts';
import { type CbsMismatch, matchCbsClient } from './onboarding.cbs.match.ts';
import { type DeclaredDetails, type IdentityResult, mismatchCodes } from './onboarding.cbs.ts';
import { compareDeclared, type DiditDeclared, type DiditIdentity } from './onboarding.didit.mapping.ts';
import { onboardingErrors } from './onboarding.errors.ts';
import type { Journey, RegistrationPatch, RegistrationRow } from './onboarding.journey.ts';
import { expectedSteps, type RegistrationState } from './onboarding.machine.ts';

export interface DetailsUpdateBody {
  first_name: string;
  middle_name?: string;
  last_name: string;
  date_of_birth: string;
}

export interface DetailsUpdateAnswer {
  state: RegistrationState;
  expected_steps: string[];
}

/** Mismatches the declared details cannot change (the bank client's phone and status, several clients). */
const KEPT_CBS = new Set(['phone_mismatch', 'phone_missing', 'client_inactive', 'ambiguous_client']);

export class DetailsUpdate {
  readonly #journey: Journey;

  constructor(journey: Journey) {
    this.#journey = journey;
  }

  async update(
    row: RegistrationRow,
    body: DetailsUpdateBody,
    context: RequestContext,
    idempotencyKey?: string,
  ): Promise<DetailsUpdateAnswer> {
    const requestHash = this.#journey.requestHash('details_update', body, idempotencyKey);
    const stored = await this.#journey.replay(row.id, 'details_update', requestHash);
    if (stored) return stored.answer as DetailsUpdateAnswer;
    this.#journey.assertAllowed(row, 'details_update');
    if (row.reopenedStep !== 'details_update')
      throw onboardingErrors.REGISTRATION_STEP_OUT_OF_ORDER({
        params: { step: 'details_update', state: row.state },
        details: {
          state: row.state,
          step: 'details_update',
          expected_steps: ['identity_cbs', 'identity_didit'],
        },
      });
    const previous = this.#journey.declared<DeclaredDetails>(row) ?? ({} as Partial<DeclaredDetails>);
    const declared = {
      ...previous,
      first_name: body.first_name.trim(),
      middle_name: body.middle_name?.trim() || null,
      last_name: body.last_name.trim(),
      date_of_birth: body.date_of_birth,
    };
    const { mismatches, patch } = this.#compare(row, declared);
    const { answer } = await inTransaction(this.#journey.db, (tx) =>
      this.#journey.advance<DetailsUpdateAnswer>(
        tx,
        row.id,
        'details_update',
        {
          declaredSealed: this.#journey.seal(row.id, 'declared', declared),
          ...patch,
          reviewReasons: [
            'details_updated',
            ...(mismatches.length > 0 ? [`identity_mismatch: ${mismatches.join(', ')}`] : []),
          ],
          reopenedStep: null,
          outcomeReason: null,
        },
        {
          requestHash,
          context,
          audit: { mismatches },
          answer: (updated: RegistrationRow) => ({
            state: updated.state as RegistrationState,
            expected_steps: expectedSteps(updated.state as RegistrationState),
          }),
        },
      ),
    );
    return answer;
  }

  /**
   * The mismatch codes after the correction, by the path's own rules, and where they are kept: sealed with the CBS
   * identity (never in the summary the status shows, see CbsLookupAnswer), in the summary for Didit.
   */
  #compare(
    row: RegistrationRow,
    declared: DeclaredDetails,
  ): { mismatches: string[]; patch: RegistrationPatch } {
    if (row.path === 'cbs') {
      const identity = this.#journey.identity<IdentityResult>(row);
      if (!identity) return { mismatches: [], patch: {} };
      const match = matchCbsClient(
        {
          fullName: [declared.first_name, declared.middle_name, declared.last_name].filter(Boolean).join(' '),
          dateOfBirth: declared.date_of_birth,
          phone: row.phone ?? '',
          phoneCountry: row.phoneCountry,
        },
        {
          clientId: Number(identity.cbs_client_id ?? 0),
          accountNo: '',
          externalId: null,
          // Status and phone are judged from what was recorded, not again here.
          status: 'active',
          active: true,
          firstName: identity.first_name,
          middleName: identity.middle_name,
          lastName: identity.last_name,
          displayName: '',
          mobileNo: row.phone,
          dateOfBirth: identity.date_of_birth,
        },
      );
      const kept = (identity.mismatch_details ?? []).filter((mismatch) => KEPT_CBS.has(mismatch.code));
      const details: CbsMismatch[] = [...kept, ...match.mismatches];
      return {
        mismatches: details.map((mismatch) => mismatch.code),
        patch: {
          identitySealed: this.#journey.seal(row.id, 'identity', { ...identity, mismatch_details: details }),
        },
      };
    }
    const summary = (row.identitySummary ?? {}) as Record<string, unknown>;
    const identity = this.#journey.identity<DiditIdentity>(row);
    const mismatches = identity
      ? compareDeclared(declared as unknown as DiditDeclared, identity).map((mismatch) => mismatch.code)
      : (mismatchCodes(this.#journey, row) ?? []);
    return { mismatches, patch: { identitySummary: { ...summary, mismatches } } };
  }
}
