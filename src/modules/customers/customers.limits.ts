/**
 * A customer's limit scale: every KYC-tier and product amount limit of the customer's wallets counts at `percent`
 * percent (1..100; 100: as set). `reason` is a code saying who set it (`aml_high_risk` for enhanced due diligence,
 * `staff`), so one setter clears only its own scale: AML never undoes a staff restriction. The scale is read by the
 * payment checks through `payment_wallet_state` (migration 0054), so a change reaches the next payment at once and a
 * payment checked before it is checked again under the wallet lock.
 *
 * The audit rows name the change (`customer.limits_scaled`, `customer.limits_restored`), never the reason in the
 * action: the customer's data export lists the actions of their audit trail, and an AML reason must not reach them.
 */
import { eq } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import type { Executor } from '../../platform/db.ts';
import { customers } from './customers.tables.ts';

export interface CustomerLimitScale {
  /** 1..100; 100 means the limits as set. */
  percent: number;
  /** Who set it (`aml_high_risk`, `staff` …); null at 100. */
  reason: string | null;
}

const REASON = /^[a-z][a-z0-9_]{0,39}$/;

/** The customer's current limit scale; undefined when there is no such customer. */
export async function customerLimitScale(
  executor: Executor,
  customerId: string,
): Promise<CustomerLimitScale | undefined> {
  const [row] = await executor
    .select({ percent: customers.limitPercent, reason: customers.limitReason })
    .from(customers)
    .where(eq(customers.id, customerId))
    .limit(1);
  return row;
}

async function write(
  tx: Executor,
  customerId: string,
  next: CustomerLimitScale,
  may: (current: CustomerLimitScale) => boolean,
  context: RequestContext,
): Promise<boolean> {
  const same = (current: CustomerLimitScale) =>
    current.percent === next.percent && current.reason === next.reason;
  // Most calls change nothing (a recompute that keeps the band): read without a lock first.
  const seen = await customerLimitScale(tx, customerId);
  if (!seen || same(seen) || !may(seen)) return false;
  const [current] = await tx
    .select({ percent: customers.limitPercent, reason: customers.limitReason })
    .from(customers)
    .where(eq(customers.id, customerId))
    .for('update')
    .limit(1);
  if (!current || same(current) || !may(current)) return false;
  await tx
    .update(customers)
    .set({ limitPercent: next.percent, limitReason: next.reason, updatedAt: new Date() })
    .where(eq(customers.id, customerId));
  await writeAudit(tx, context, {
    action: next.percent === 100 ? 'customer.limits_restored' : 'customer.limits_scaled',
    entityType: 'customer',
    entityId: customerId,
    before: { limit_percent: current.percent, limit_reason: current.reason },
    after: { limit_percent: next.percent, limit_reason: next.reason },
  });
  return true;
}

/**
 * Sets the customer's limit scale to `percent` (an integer 1..100; 100 lifts it) for `reason`, in the caller's
 * transaction, with an audit row. With `onlyOwn`, a scale another reason set is left as it is (AML does not override
 * a staff restriction, tighter or looser); without it the new scale replaces any. Returns whether anything changed
 * (false for an unknown customer, a scale already so, or one kept by `onlyOwn`).
 */
export function setCustomerLimitScale(
  tx: Executor,
  customerId: string,
  scale: { percent: number; reason: string },
  context: RequestContext,
  options: { onlyOwn?: boolean } = {},
): Promise<boolean> {
  const { percent, reason } = scale;
  if (!Number.isInteger(percent) || percent < 1 || percent > 100)
    throw new RangeError(`limit percent must be an integer 1..100, not ${percent}`);
  if (!REASON.test(reason))
    throw new RangeError(`limit reason must be a code, not ${JSON.stringify(reason)}`);
  const next = percent === 100 ? { percent, reason: null } : { percent, reason };
  return write(
    tx,
    customerId,
    next,
    (current) => !options.onlyOwn || current.reason === null || current.reason === reason,
    context,
  );
}

/**
 * Lifts the customer's limit scale only when `reason` set it (AML's clear leaves a staff restriction standing).
 * Returns whether it was lifted.
 */
export function clearCustomerLimitScale(
  tx: Executor,
  customerId: string,
  reason: string,
  context: RequestContext,
): Promise<boolean> {
  return write(
    tx,
    customerId,
    { percent: 100, reason: null },
    (current) => current.reason === reason,
    context,
  );
}
