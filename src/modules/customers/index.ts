/** Customers: profiles, contacts, masked and encrypted PII, search, data-protection rights, phone + PIN sign-in. */
import { eq, sql } from 'drizzle-orm';
import { type Executor, perDatabase, readRetried } from '../../platform/db.ts';
import { approvalAction, defineModule } from '../../platform/modules.ts';
import { approvalsModule } from '../approvals/index.ts';
import { identityModule } from '../identity/index.ts';
import { policyModule } from '../policy/index.ts';
import { CustomerAuth } from './customers.auth.ts';
import { contactRoutes } from './customers.contacts.routes.ts';
import { CustomerContacts } from './customers.contacts.ts';
import { customerErrorCatalogue } from './customers.errors.ts';
import { customerTopics } from './customers.events.ts';
import { customerRoutes } from './customers.routes.ts';
import { CustomersService } from './customers.service.ts';
import { customers } from './customers.tables.ts';
import { kycRoutes } from './kyc.routes.ts';
import { expireKycTiers, KycService, seedKycTiers } from './kyc.service.ts';

export { CustomerAuth, pinErrors } from './customers.auth.ts';
export { customerTopics, kycDecided } from './customers.events.ts';
export { customerDisplayName, primaryContact } from './customers.read.ts';
export {
  type CustomerNames,
  type CustomerStanding,
  customerIdByPhone,
  customerNames,
  customerStanding,
  lockLiveCustomer,
  rewrapCustomerKeys,
} from './customers.repository.ts';
export { CustomersService, normalisePhone } from './customers.service.ts';
export { expireKycTiers, seedKycTiers } from './kyc.service.ts';

export interface CustomersApi {
  customers: CustomersService;
  kyc: KycService;
  auth: CustomerAuth;
  contacts: CustomerContacts;
}

export const customersModule = defineModule({
  name: 'customers',
  description: 'Customer profiles, contacts, KYC tiers, data-protection rights, phone and PIN sign-in',
  dependsOn: ['identity', 'policy', 'approvals'],
  publishes: customerTopics,
  errors: customerErrorCatalogue,
  permissions: [
    { code: 'customer:read', description: 'Read customers' },
    { code: 'customer:create', description: 'Create customers' },
    { code: 'customer:update', description: 'Change customers' },
    { code: 'customer:pii_read', description: 'See national ID and date of birth in clear' },
    { code: 'customer:export', description: 'Export everything held about a customer' },
    { code: 'customer:erase', description: 'Anonymise a customer' },
    { code: 'kyc:read', description: 'Read KYC status and history' },
    { code: 'kyc:submit', description: 'Submit KYC for a customer' },
    { code: 'kyc:review', description: 'Approve or reject KYC' },
  ],
  create(ctx): CustomersApi {
    const { deps } = ctx;
    return {
      customers: new CustomersService(deps),
      kyc: new KycService(deps.database.db, ctx.use(policyModule)),
      auth: new CustomerAuth(deps, ctx.use(identityModule)),
      contacts: new CustomerContacts(deps.database.db),
    };
  },
  routes: (api, ctx) => [
    customerRoutes(api.customers, api.auth),
    contactRoutes(api.contacts, api.customers),
    kycRoutes(api.kyc, ctx.use(approvalsModule)),
  ],
  // Customers are principals: pending and active ones may sign in; suspended and closed ones are refused at once.
  principalResolvers: (_api, { deps }) => {
    // Read on every customer request: a named prepared statement, built once per database handle.
    const statusQuery = perDatabase(customerStatusQuery);
    return {
      customer: async (id) => {
        const [row] = await readRetried(() => statusQuery(deps.database.db).execute({ id }));
        if (!row) return null;
        return {
          active: row.status === 'pending' || row.status === 'active',
          roles: ['customer'],
          permissions: [],
        };
      },
    };
  },
  approvalActions: (api) => [
    approvalAction<{ application_id: string; reason?: string }>({
      name: 'kyc.approve',
      description: 'Approve a KYC application (moves the customer to the tier)',
      permission: 'kyc:review',
      // One open approval per application.
      dedupeKey: (payload) => payload.application_id,
      // The checker who approves the request is the one recorded as deciding the application.
      execute: (payload, context) =>
        api.kyc.review(
          payload.application_id,
          'approve',
          payload.reason,
          { type: 'user', id: context.actor.id ?? '' },
          context,
        ),
    }),
  ],
  jobs: () => [{ name: 'kyc.expire-tiers', schedule: '5 1 * * *', run: expireKycTiers }],
  seed: ({ deps }) => seedKycTiers(deps.database.db),
});

function customerStatusQuery(db: Executor) {
  return db
    .select({ status: customers.status })
    .from(customers)
    .where(eq(customers.id, sql.placeholder('id')))
    .limit(1)
    .prepare('customer_principal_status');
}
