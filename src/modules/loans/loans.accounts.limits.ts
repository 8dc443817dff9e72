/**
 * Approval limits: the most a role may approve per currency (`loan_approval_limits`). A role without a limit in a
 * currency may not approve loans in it; a principal with several roles gets the highest of their limits.
 */
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { currencyInfo } from '../../platform/money.ts';
import {
  type ApprovalLimitRow,
  approvalLimits,
  deleteApprovalLimit,
  upsertApprovalLimit,
} from './loans.accounts.repository.ts';

export function approvalLimitView(row: ApprovalLimitRow) {
  return {
    role_code: row.roleCode,
    currency: row.currency,
    max_amount_minor: row.maxAmountMinor,
    removed: false,
    updated_by_id: row.updatedById,
    updated_at: row.updatedAt.toISOString(),
  };
}

export class ApprovalLimits {
  readonly #db: Executor;

  constructor(db: Executor) {
    this.#db = db;
  }

  async list() {
    return { items: (await approvalLimits(this.#db)).map(approvalLimitView) };
  }

  /** Sets a role's limit in a currency (max_amount_minor), or removes it (null: the role may no longer approve). */
  async set(
    input: { role_code: string; currency: string; max_amount_minor: number | null },
    context: RequestContext,
  ) {
    currencyInfo(input.currency);
    return inTransaction(this.#db, async (tx) => {
      if (input.max_amount_minor === null) {
        const [removed] = await deleteApprovalLimit(tx, input.role_code, input.currency);
        if (!removed) throw commonErrors.notFound('Approval limit');
        await writeAudit(tx, context, {
          action: 'loan.approval_limit_removed',
          entityType: 'loan_approval_limit',
          entityId: `${input.role_code}:${input.currency}`,
          before: approvalLimitView(removed),
        });
        return { ...approvalLimitView(removed), removed: true };
      }
      const row = await upsertApprovalLimit(tx, {
        roleCode: input.role_code,
        currency: input.currency,
        maxAmountMinor: BigInt(input.max_amount_minor),
        updatedById: context.actor.id,
      });
      const view = approvalLimitView(row);
      await writeAudit(tx, context, {
        action: 'loan.approval_limit_set',
        entityType: 'loan_approval_limit',
        entityId: `${input.role_code}:${input.currency}`,
        after: view,
      });
      return view;
    });
  }
}

/**
 * The limits a new installation starts with, so a loan officer can approve from the quick start: loan officers up to
 * KES 1,000,000 / USD 10,000, administrators ten times that. Seeded only while the table is empty: a limit staff
 * removed (the role may no longer approve) is not brought back at the next start.
 */
export const DEFAULT_APPROVAL_LIMITS: readonly {
  roleCode: string;
  currency: string;
  maxAmountMinor: bigint;
}[] = [
  { roleCode: 'loan_officer', currency: 'KES', maxAmountMinor: 100_000_000n },
  { roleCode: 'loan_officer', currency: 'USD', maxAmountMinor: 1_000_000n },
  { roleCode: 'admin', currency: 'KES', maxAmountMinor: 1_000_000_000n },
  { roleCode: 'admin', currency: 'USD', maxAmountMinor: 10_000_000n },
  { roleCode: 'super_admin', currency: 'KES', maxAmountMinor: 1_000_000_000n },
  { roleCode: 'super_admin', currency: 'USD', maxAmountMinor: 10_000_000n },
];

export async function seedApprovalLimits(db: Executor): Promise<void> {
  await inTransaction(db, async (tx) => {
    if ((await approvalLimits(tx)).length > 0) return;
    for (const limit of DEFAULT_APPROVAL_LIMITS)
      await upsertApprovalLimit(tx, { ...limit, updatedById: null });
  });
}
