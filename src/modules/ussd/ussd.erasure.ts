/**
 * The USSD module's part in a customer's erasure (registered with the customers module's `addErasureStep`): the
 * channel switch and its reason go, and the gateway's end-of-session reports keep their counts and costs but no
 * longer the customer's phone number.
 */
import { eq, inArray } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { ussdSessionReports } from './ussd.reports.tables.ts';
import { ussdProfiles } from './ussd.tables.ts';

export async function forgetUssdCustomer(
  tx: Executor,
  customer: { id: string; phones: string[] },
): Promise<void> {
  await tx.delete(ussdProfiles).where(eq(ussdProfiles.customerId, customer.id));
  // Reports keep the number as the gateway sent it: with or without the plus.
  const numbers = customer.phones.flatMap((phone) => [phone, phone.replace(/^\+/, '')]);
  if (numbers.length > 0)
    await tx
      .update(ussdSessionReports)
      .set({ phoneNumber: null })
      .where(inArray(ussdSessionReports.phoneNumber, numbers));
}
