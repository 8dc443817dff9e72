/**
 * Customers created by self-registration (the onboarding module's activation): inside the caller's transaction, so the
 * customer, the wallet, the credentials and the session are made together or not at all. The PIN arrives already
 * hashed the way customers.auth.ts hashes it (keyed by the customer id chosen before), so it is never in clear here.
 * Also the national ID's blind index and who holds it, and who is linked to a CBS client, for onboarding's duplicate
 * checks.
 */
import { and, eq } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { keyedHash, sealEnvelope } from '../../platform/crypto.ts';
import { type Executor, violatedConstraint } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { humanNumber, uuidv7 } from '../../platform/ids.ts';
import { customerErrors, normaliseNationalId } from './customers.records.ts';
import { customerCredentials, customerEmails, customerPhones, customers } from './customers.tables.ts';

export interface OnboardedCustomer {
  /** Chosen by the caller (the PIN hash is keyed by it). */
  id: string;
  first_name: string;
  middle_name?: string | null;
  last_name: string;
  /** E.164, verified by OTP at `phone_verified_at`. */
  phone: string;
  phone_verified_at: Date;
  email?: string | null;
  email_verified_at?: Date | null;
  date_of_birth?: string | null;
  national_id?: string | null;
  national_id_type?: string | null;
  nationality?: string | null;
  /** A KYC tier code (seed/kyc_tiers.json); the customer is active at once. */
  kyc_tier: string;
  /** keyedHash(pepper, `pin:${id}`, pin), as CustomerAuth computes it. */
  pin_hash: string;
  /** Where the customer registered: the mobile app (the default) or USSD. */
  channel?: 'mobile' | 'ussd' | 'agent';
  /**
   * The core-banking (Fineract) client the registration found the person as (identity path A). One bank client is
   * one customer: a client another customer is linked to answers 409 CUSTOMER_EXISTS (field `CBS client id`).
   */
  cbs_client_id?: string | null;
}

/** The customer linked to a core-banking client id, or null. */
export async function customerIdByCbsClientId(db: Executor, cbsClientId: string): Promise<string | null> {
  const [row] = await db
    .select({ id: customers.id })
    .from(customers)
    .where(eq(customers.cbsClientId, cbsClientId))
    .limit(1);
  return row?.id ?? null;
}

/** The blind index customers keep of a national ID (the same keyed hash their unique index is on). */
export function nationalIdBlindIndex(pepper: string, type: string, value: string): string {
  return keyedHash(pepper, `national-id:${type}`, normaliseNationalId(value));
}

/** The customer holding a national ID (by its blind index), or null. */
export async function customerIdByNationalId(
  db: Executor,
  type: string,
  index: string,
): Promise<string | null> {
  const [row] = await db
    .select({ id: customers.id })
    .from(customers)
    .where(and(eq(customers.nationalIdType, type), eq(customers.nationalIdIndex, index)))
    .limit(1);
  return row?.id ?? null;
}

/**
 * Inserts the customer (active, on `kyc_tier`), the verified primary phone and email and the PIN credentials on `tx`.
 * A phone, email or national ID another customer holds answers 409 CUSTOMER_EXISTS; the caller's transaction then
 * rolls back whatever it made before.
 */
export async function createOnboardedCustomer(
  tx: Executor,
  deps: Dependencies,
  input: OnboardedCustomer,
  context: RequestContext,
): Promise<{ id: string; customerNumber: string }> {
  const { id } = input;
  const seal = (field: string, value: string) =>
    JSON.stringify(sealEnvelope(deps.keys, Buffer.from(value), `customer:${id}:${field}`));
  const nationalId = input.national_id && input.national_id_type ? input.national_id : null;
  const customerNumber = humanNumber('CF', 10);
  try {
    // A savepoint: a constraint refusal must not abort the caller's transaction before it can answer.
    await tx.transaction(async (inner) => {
      await inner.insert(customers).values({
        id,
        customerNumber,
        customerType: 'individual',
        firstName: input.first_name,
        middleName: input.middle_name ?? null,
        lastName: input.last_name,
        nationality: input.nationality ?? null,
        nationalIdType: nationalId ? input.national_id_type! : null,
        nationalIdSealed: nationalId ? seal('national_id', normaliseNationalId(nationalId)) : null,
        nationalIdIndex: nationalId
          ? nationalIdBlindIndex(deps.config.HMAC_PEPPER, input.national_id_type!, nationalId)
          : null,
        nationalIdLast4: nationalId ? normaliseNationalId(nationalId).slice(-4) : null,
        dateOfBirthSealed: input.date_of_birth ? seal('date_of_birth', input.date_of_birth) : null,
        status: 'active',
        kycTier: input.kyc_tier,
        channel: input.channel ?? 'mobile',
        cbsClientId: input.cbs_client_id ?? null,
        registeredByType: context.actor.type === 'anonymous' ? null : context.actor.type,
        registeredById: context.actor.id,
      });
      await inner.insert(customerPhones).values({
        id: uuidv7(),
        customerId: id,
        phone: input.phone,
        primary: true,
        verifiedAt: input.phone_verified_at,
      });
      if (input.email) {
        await inner.insert(customerEmails).values({
          id: uuidv7(),
          customerId: id,
          email: input.email.toLowerCase(),
          primary: true,
          verifiedAt: input.email_verified_at ?? null,
        });
      }
      await inner.insert(customerCredentials).values({ customerId: id, pinHash: input.pin_hash });
    });
  } catch (error) {
    const constraint = violatedConstraint(error);
    if (constraint === 'customer_phones_phone_key') throw customerErrors.duplicate('phone');
    if (constraint === 'customer_emails_email_key') throw customerErrors.duplicate('email');
    if (constraint === 'customers_national_id_key') throw customerErrors.duplicate('national ID');
    if (constraint === 'customers_cbs_client_key') throw customerErrors.duplicate('CBS client id');
    if (constraint === 'customers_number_key') return createOnboardedCustomer(tx, deps, input, context);
    throw error;
  }
  await writeAudit(tx, context, {
    action: 'customer.created',
    entityType: 'customer',
    entityId: id,
    after: {
      customer_number: customerNumber,
      customer_type: 'individual',
      channel: input.channel ?? 'mobile',
      kyc_tier: input.kyc_tier,
      cbs_client_id: input.cbs_client_id ?? null,
    },
  });
  return { id, customerNumber };
}
