/**
 * Customers: profiles, contacts, masked and encrypted PII, search, data-protection rights, phone + PIN sign-in. The
 * customer's KYC tier is a column here; the KYC module (src/modules/kyc) decides it through customers.tier.ts.
 */
import { eq, sql } from 'drizzle-orm';
import { type Executor, perDatabase, readRetried } from '../../platform/db.ts';
import { defineModule } from '../../platform/modules.ts';
import { identityModule } from '../identity/index.ts';
import { CustomerAuth } from './customers.auth.ts';
import { customersConfig } from './customers.config.ts';
import { contactRoutes } from './customers.contacts.routes.ts';
import { CustomerContacts } from './customers.contacts.ts';
import { customerErrorCatalogue } from './customers.errors.ts';
import { customerTopics } from './customers.events.ts';
import { customerRoutes } from './customers.routes.ts';
import { CustomersService } from './customers.service.ts';
import {
  customerAddresses,
  customerCredentials,
  customerEmails,
  customerPhones,
  customers,
} from './customers.tables.ts';

export { CustomerAuth, pinErrors } from './customers.auth.ts';
export { type CustomerCreditIdentity, customerCreditIdentity } from './customers.bureau.ts';
export { customerErased, customerTopics } from './customers.events.ts';
export {
  type CustomerLimitScale,
  clearCustomerLimitScale,
  customerLimitScale,
  setCustomerLimitScale,
} from './customers.limits.ts';
export {
  createOnboardedCustomer,
  customerIdByCbsClientId,
  customerIdByNationalId,
  nationalIdBlindIndex,
  type OnboardedCustomer,
} from './customers.onboard.ts';
export { pinVerdict } from './customers.pin-policy.ts';
export { customerDisplayName, primaryContact } from './customers.read.ts';
export {
  type CustomerReportingAddress,
  type CustomerReportingIdentity,
  customerReportingIdentity,
} from './customers.reporting.ts';
export {
  type CustomerNames,
  type CustomerStanding,
  customerIdByPhone,
  customerNames,
  customerNationalIdIndex,
  customerStanding,
  customerStandingByPhone,
  lockLiveCustomer,
  rewrapCustomerKeys,
} from './customers.repository.ts';
export type { ErasureCheck, ErasureStep } from './customers.rights.ts';
export { CustomersService, normalisePhone } from './customers.service.ts';
export {
  type CustomerTier,
  lapseCustomerTiers,
  lockCustomerTier,
  setCustomerTier,
  verifiedContacts,
} from './customers.tier.ts';

export interface CustomersApi {
  customers: CustomersService;
  auth: CustomerAuth;
  contacts: CustomerContacts;
}

export const customersModule = defineModule({
  name: 'customers',
  description: 'Customer profiles, contacts, data-protection rights, phone and PIN sign-in',
  dependsOn: ['identity'],
  config: customersConfig,
  errors: customerErrorCatalogue,
  tables: { customers, customerPhones, customerEmails, customerAddresses, customerCredentials },
  publishes: customerTopics,
  permissions: [
    { code: 'customer:read', description: 'Read customers' },
    { code: 'customer:create', description: 'Create customers' },
    { code: 'customer:update', description: 'Change customers' },
    { code: 'customer:pii_read', description: 'See national ID and date of birth in clear' },
    { code: 'customer:export', description: 'Export everything held about a customer' },
    { code: 'customer:erase', description: 'Anonymise a customer' },
  ],
  create(ctx): CustomersApi {
    const { deps } = ctx;
    return {
      customers: new CustomersService(deps),
      auth: new CustomerAuth(deps, ctx.use(identityModule), ctx.config),
      contacts: new CustomerContacts(deps.database.db),
    };
  },
  routes: (api) => [customerRoutes(api.customers, api.auth), contactRoutes(api.contacts, api.customers)],
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
});

function customerStatusQuery(db: Executor) {
  return db
    .select({ status: customers.status })
    .from(customers)
    .where(eq(customers.id, sql.placeholder('id')))
    .limit(1)
    .prepare('customer_principal_status');
}
