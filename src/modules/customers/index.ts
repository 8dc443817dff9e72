/** Customers: profiles, contacts, masked and encrypted PII, search, data-protection rights, phone + PIN sign-in. */
import { eq, sql } from 'drizzle-orm';
import type { FastifyPluginAsync } from 'fastify';
import { type Executor, perDatabase, readRetried } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import type { ApprovalService } from '../approvals/index.ts';
import type { IdentityService } from '../identity/index.ts';
import type { PolicyService } from '../policy/index.ts';
import { CustomerAuth } from './customers.auth.ts';
import { contactRoutes } from './customers.contacts.routes.ts';
import { CustomerContacts } from './customers.contacts.ts';
import { customerRoutes } from './customers.routes.ts';
import { CustomersService } from './customers.service.ts';
import { customers } from './customers.tables.ts';
import { kycRoutes } from './kyc.routes.ts';
import { KycService } from './kyc.service.ts';

export { CustomerAuth, pinErrors } from './customers.auth.ts';
export { CustomersService, normalisePhone } from './customers.service.ts';
export { customerEmails, customerPhones, customers } from './customers.tables.ts';
export { expireKycTiers, seedKycTiers } from './kyc.service.ts';
export { kycTiers } from './kyc.tables.ts';

export function customersModule(
  deps: Dependencies,
  identity: IdentityService,
  policy: PolicyService,
  approvals: ApprovalService,
): FastifyPluginAsync {
  return async (app) => {
    // Customers are principals: pending and active ones may sign in; suspended and closed ones are refused at once.
    // Read on every customer request: a named prepared statement, built once per database handle.
    const statusQuery = perDatabase(customerStatusQuery);
    identity.registerPrincipalResolver('customer', async (id) => {
      const [row] = await readRetried(() => statusQuery(deps.database.db).execute({ id }));
      if (!row) return null;
      return {
        active: row.status === 'pending' || row.status === 'active',
        roles: ['customer'],
        permissions: [],
      };
    });
    const service = new CustomersService(deps);
    await app.register(customerRoutes(service, new CustomerAuth(deps, identity)));
    await app.register(contactRoutes(new CustomerContacts(deps.database.db), service));
    const kyc = new KycService(deps.database.db, policy);
    approvals.register<{ application_id: string; reason?: string }>({
      name: 'kyc.approve',
      description: 'Approve a KYC application (moves the customer to the tier)',
      permission: 'kyc:review',
      // One open approval per application.
      dedupeKey: (payload) => payload.application_id,
      // The checker who approves the request is the one recorded as deciding the application.
      execute: (payload, context) =>
        kyc.review(
          payload.application_id,
          'approve',
          payload.reason,
          { type: 'user', id: context.actor.id ?? '' },
          context,
        ),
    });
    await app.register(kycRoutes(kyc, approvals));
  };
}

function customerStatusQuery(db: Executor) {
  return db
    .select({ status: customers.status })
    .from(customers)
    .where(eq(customers.id, sql.placeholder('id')))
    .limit(1)
    .prepare('customer_principal_status');
}
