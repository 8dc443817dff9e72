/**
 * KYC tiers Basic → Standard → Premium → Business: what each requires, the balance cap and transaction limits it
 * carries (limits live in the policy module's transaction-control table, so wallets evaluate one set of rules),
 * and which features it opens per channel. `initiate` opens an application and returns the checklist for the tier.
 * The seed and the daily lapse of tiers are in kyc.jobs.ts.
 */
import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { assertOwnership, type Principal } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { emitEvent } from '../../platform/outbox.ts';
import { approvalErrorCatalogue } from '../approvals/index.ts';
import {
  customerDisplayName,
  lockCustomerTier,
  setCustomerTier,
  verifiedContacts,
} from '../customers/index.ts';
import { documentTypesOnFile, verifiedDocumentTypes } from '../documents/index.ts';
import type { PolicyService } from '../policy/index.ts';
import { kycErrorCatalogue as codes } from './kyc.errors.ts';
import { kycDecided } from './kyc.events.ts';
import { kycApplications, kycTiers } from './kyc.tables.ts';

type TierRow = typeof kycTiers.$inferSelect;
type ApplicationRow = typeof kycApplications.$inferSelect;

export const kycErrors = {
  unknownTier: (tier: string) => codes.UNKNOWN_TIER({ params: { tier } }),
  notAnUpgrade: (current: string, target: string) =>
    codes.NOT_AN_UPGRADE({
      params: { current, target },
      details: { current_tier: current, target_tier: target },
    }),
  wrongState: (status: string) => codes.KYC_WRONG_STATE({ params: { status }, details: { status } }),
  incomplete: (missing: string[]) => codes.CHECKLIST_INCOMPLETE({ details: { missing } }),
  ownApplication: () =>
    approvalErrorCatalogue.OWN_REQUEST({ message: 'Staff cannot decide an application they started' }),
  openApplication: (id: string, target: string) =>
    codes.KYC_IN_PROGRESS({ params: { target }, details: { application_id: id } }),
};

function applicationView(row: ApplicationRow) {
  return {
    id: row.id,
    customer_id: row.customerId,
    from_tier: row.fromTier,
    target_tier: row.targetTier,
    status: row.status,
    initiated_by: { type: row.initiatedByType, id: row.initiatedById },
    decided_by: row.decidedById,
    decided_at: row.decidedAt?.toISOString() ?? null,
    reason: row.reason,
    created_at: row.createdAt.toISOString(),
  };
}

export class KycService {
  readonly #db: Executor;
  readonly #policy: PolicyService;

  constructor(db: Executor, policy: PolicyService) {
    this.#db = db;
    this.#policy = policy;
  }

  async #tier(executor: Executor, code: string): Promise<TierRow> {
    const [tier] = await executor.select().from(kycTiers).where(eq(kycTiers.code, code)).limit(1);
    if (!tier) throw kycErrors.unknownTier(code);
    return tier;
  }

  async #tierView(tier: TierRow) {
    const { items } = await this.#policy.listLimits({ kyc_tier: tier.code });
    return {
      code: tier.code,
      name: tier.name,
      rank: tier.rank,
      required_documents: tier.requiredDocuments,
      required_verifications: tier.requiredVerifications,
      max_balance: Object.fromEntries(
        Object.entries(tier.maxBalance).map(([currency, value]) => [currency, BigInt(value)]),
      ),
      features: tier.features,
      validity_days: tier.validityDays,
      limits: items
        .filter((limit) => limit.active)
        .map((limit) => ({
          currency: limit.currency,
          transaction_type: limit.transaction_type,
          channel: limit.channel,
          period: limit.period,
          max_amount_minor: limit.max_amount_minor,
        })),
    };
  }

  async listTiers() {
    const tiers = await this.#db.select().from(kycTiers).orderBy(asc(kycTiers.rank));
    return { items: await Promise.all(tiers.map((tier) => this.#tierView(tier))) };
  }

  async getTier(code: string) {
    const [tier] = await this.#db.select().from(kycTiers).where(eq(kycTiers.code, code)).limit(1);
    if (!tier) throw commonErrors.notFound('KYC tier');
    return this.#tierView(tier);
  }

  async updateTier(
    code: string,
    changes: {
      name?: string;
      required_documents?: string[];
      required_verifications?: string[];
      max_balance?: Record<string, number>;
      features?: Record<string, string[]>;
      validity_days?: number | null;
    },
    context: RequestContext,
  ) {
    await inTransaction(this.#db, async (tx) => {
      const [before] = await tx.select().from(kycTiers).where(eq(kycTiers.code, code)).for('update').limit(1);
      if (!before) throw commonErrors.notFound('KYC tier');
      const [after] = await tx
        .update(kycTiers)
        .set({
          ...(changes.name !== undefined ? { name: changes.name } : {}),
          ...(changes.required_documents !== undefined
            ? { requiredDocuments: changes.required_documents }
            : {}),
          ...(changes.required_verifications !== undefined
            ? { requiredVerifications: changes.required_verifications }
            : {}),
          ...(changes.max_balance !== undefined
            ? {
                maxBalance: Object.fromEntries(
                  Object.entries(changes.max_balance).map(([key, value]) => [key, String(value)]),
                ),
              }
            : {}),
          ...(changes.features !== undefined ? { features: changes.features } : {}),
          ...(changes.validity_days !== undefined ? { validityDays: changes.validity_days } : {}),
          updatedAt: new Date(),
        })
        .where(eq(kycTiers.code, code))
        .returning();
      await writeAudit(tx, context, {
        action: 'kyc.tier_updated',
        entityType: 'kyc_tier',
        entityId: code,
        before,
        after,
      });
    });
    return this.getTier(code);
  }

  /** Features a tier opens on a channel (other modules ask before offering one). */
  async features(tier: string, channel: string): Promise<string[]> {
    const row = await this.#tier(this.#db, tier);
    return row.features[channel] ?? [];
  }

  /** Opens an application for a higher tier and says what it still needs. */
  async initiate(customerId: string, targetTier: string, principal: Principal, context: RequestContext) {
    const { application, checklist } = await inTransaction(this.#db, async (tx) => {
      const customer = await lockCustomerTier(tx, customerId);
      if (!customer || customer.erasedAt) throw commonErrors.notFound('Customer');
      const current = await this.#tier(tx, customer.kycTier);
      const target = await this.#tier(tx, targetTier);
      if (target.rank <= current.rank) throw kycErrors.notAnUpgrade(current.code, target.code);
      const [open] = await tx
        .select()
        .from(kycApplications)
        .where(
          and(
            eq(kycApplications.customerId, customerId),
            inArray(kycApplications.status, ['initiated', 'submitted']),
          ),
        )
        .orderBy(desc(kycApplications.createdAt))
        .limit(1);
      let row = open;
      if (open && open.targetTier !== targetTier) throw kycErrors.openApplication(open.id, open.targetTier);
      if (!row) {
        [row] = await tx
          .insert(kycApplications)
          .values({
            id: uuidv7(),
            customerId,
            fromTier: current.code,
            targetTier,
            status: 'initiated',
            initiatedByType: principal.type,
            initiatedById: principal.id,
          })
          .returning();
        await writeAudit(tx, context, {
          action: 'kyc.initiated',
          entityType: 'customer',
          entityId: customerId,
          after: { application_id: row!.id, from_tier: current.code, target_tier: targetTier },
        });
      }
      const items = await this.#checklist(tx, customerId, target);
      return { application: applicationView(row!), checklist: items };
    });
    return { application, target_tier: await this.getTier(targetTier), checklist };
  }

  /** What the target tier still needs: documents verified by staff, and verifications done. */
  async #checklist(tx: Executor, customerId: string, target: TierRow) {
    const contacts = await verifiedContacts(tx, customerId);
    const held = await verifiedDocumentTypes(tx, customerId);
    const verified: Record<string, boolean> = {
      phone: contacts.phone,
      email: contacts.email,
      id_document: ['national_id', 'passport', 'drivers_license'].some((type) => held.has(type)),
      address: held.has('proof_of_address'),
      business_registration: held.has('business_registration'),
    };
    return [
      // A document counts once staff verified it and it has not expired.
      ...target.requiredDocuments.map((code) => ({
        kind: 'document' as const,
        code,
        satisfied: held.has(code),
      })),
      ...target.requiredVerifications.map((code) => ({
        kind: 'verification' as const,
        code,
        satisfied: verified[code] ?? false,
      })),
    ];
  }

  async #application(
    tx: Executor,
    id: string,
    principal: Pick<Principal, 'type' | 'id'>,
  ): Promise<ApplicationRow> {
    const [row] = await tx
      .select()
      .from(kycApplications)
      .where(eq(kycApplications.id, id))
      .for('update')
      .limit(1);
    if (!row) throw commonErrors.notFound('KYC application');
    assertOwnership(principal, row.customerId, 'KYC application');
    return row;
  }

  /** The customer (or staff for them) says the documents are in; every required document must be on file. */
  async submit(applicationId: string, principal: Principal, context: RequestContext) {
    return inTransaction(this.#db, async (tx) => {
      const row = await this.#application(tx, applicationId, principal);
      if (row.status !== 'initiated') throw kycErrors.wrongState(row.status);
      const target = await this.#tier(tx, row.targetTier);
      const onFile = await documentTypesOnFile(tx, row.customerId);
      const missing = target.requiredDocuments.filter((code) => !onFile.has(code));
      if (missing.length > 0) throw kycErrors.incomplete(missing);
      const [updated] = await tx
        .update(kycApplications)
        .set({ status: 'submitted', updatedAt: new Date() })
        .where(eq(kycApplications.id, applicationId))
        .returning();
      await writeAudit(tx, context, {
        action: 'kyc.submitted',
        entityType: 'customer',
        entityId: row.customerId,
        after: { application_id: applicationId },
      });
      return applicationView(updated!);
    });
  }

  /**
   * Staff decide. Approval needs the whole checklist satisfied; it moves the customer to the tier (activating a
   * pending customer) and sets when re-KYC is due. Every decision is kept on the application and in the audit log.
   */
  async review(
    applicationId: string,
    decision: 'approve' | 'reject',
    reason: string | undefined,
    principal: Pick<Principal, 'type' | 'id'>,
    context: RequestContext,
  ) {
    return inTransaction(this.#db, async (tx) => {
      const row = await this.#application(tx, applicationId, principal);
      if (row.status !== 'submitted') throw kycErrors.wrongState(row.status);
      if (row.initiatedById === principal.id) throw kycErrors.ownApplication();
      if (decision === 'reject') {
        if (!reason)
          throw commonErrors.validation('A rejection needs a reason', {
            errors: [{ field: 'body.reason', message: 'is required' }],
          });
        const [rejected] = await tx
          .update(kycApplications)
          .set({
            status: 'rejected',
            decidedById: principal.id,
            decidedAt: new Date(),
            reason,
            updatedAt: new Date(),
          })
          .where(eq(kycApplications.id, applicationId))
          .returning();
        await writeAudit(tx, context, {
          action: 'kyc.rejected',
          entityType: 'customer',
          entityId: row.customerId,
          after: { application_id: applicationId, reason },
        });
        await emitEvent(
          tx,
          kycDecided,
          { type: 'customer', id: row.customerId },
          {
            customer_id: row.customerId,
            name: (await customerDisplayName(tx, row.customerId)) ?? '',
            application_id: applicationId,
            decision: 'rejected',
            reason,
          },
        );
        return applicationView(rejected!);
      }
      const target = await this.#tier(tx, row.targetTier);
      const missing = (await this.#checklist(tx, row.customerId, target)).filter((item) => !item.satisfied);
      if (missing.length > 0) throw kycErrors.incomplete(missing.map((item) => `${item.kind}:${item.code}`));
      const customer = await lockCustomerTier(tx, row.customerId);
      const expiresAt = target.validityDays ? new Date(Date.now() + target.validityDays * 86_400_000) : null;
      // Customers owns the tier column; approving moves it (and activates a pending customer) in this transaction.
      await setCustomerTier(tx, row.customerId, target.code, expiresAt);
      const [approved] = await tx
        .update(kycApplications)
        .set({
          status: 'approved',
          decidedById: principal.id,
          decidedAt: new Date(),
          reason: reason ?? null,
          updatedAt: new Date(),
        })
        .where(eq(kycApplications.id, applicationId))
        .returning();
      await writeAudit(tx, context, {
        action: 'kyc.approved',
        entityType: 'customer',
        entityId: row.customerId,
        before: { kyc_tier: customer!.kycTier },
        after: {
          kyc_tier: target.code,
          application_id: applicationId,
          expires_at: expiresAt?.toISOString() ?? null,
        },
      });
      await emitEvent(
        tx,
        kycDecided,
        { type: 'customer', id: row.customerId },
        {
          customer_id: row.customerId,
          name: (await customerDisplayName(tx, row.customerId)) ?? '',
          application_id: applicationId,
          decision: 'approved',
          tier: target.name,
          tier_code: target.code,
        },
      );
      return applicationView(approved!);
    });
  }

  async applications(customerId: string) {
    const rows = await this.#db
      .select()
      .from(kycApplications)
      .where(eq(kycApplications.customerId, customerId))
      .orderBy(desc(kycApplications.createdAt))
      .limit(100);
    return { items: rows.map(applicationView) };
  }
}
