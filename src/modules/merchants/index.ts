/** Merchants: registration (maker-checker), merchant wallets, EMVCo QR codes and payment by id or QR. */
import { inArray, sql } from 'drizzle-orm';
import { approvalAction, defineModule } from '../../platform/modules.ts';
import {
  PAYMENT_MODULE_DEPENDENCIES,
  paymentModuleOptions,
  transactionsModule,
} from '../transactions/index.ts';
import { merchantErrorCatalogue } from './merchants.errors.ts';
import { merchantTopics } from './merchants.events.ts';
import { merchantRoutes } from './merchants.routes.ts';
import { MerchantPayment } from './merchants.schemas.ts';
import { MerchantsService, type RegistrationPayload } from './merchants.service.ts';
import { merchantQrCodes, merchants } from './merchants.tables.ts';

export { merchantErrors } from './merchants.errors.ts';
export {
  merchantActivated,
  merchantRegistered,
  merchantSuspended,
  merchantTopics,
} from './merchants.events.ts';
export { merchantParty } from './merchants.read.ts';
export { MerchantPayment } from './merchants.schemas.ts';
export {
  MERCHANT_QR_GUID,
  MerchantsService,
  type MerchantView,
  merchantView,
  qrView,
} from './merchants.service.ts';
export { merchantQrCodes, merchants } from './merchants.tables.ts';

export const merchantsModule = defineModule({
  name: 'merchants',
  description: 'Merchant registration (maker-checker), merchant wallets, EMVCo QR codes, payment by id or QR',
  dependsOn: PAYMENT_MODULE_DEPENDENCIES,
  tables: { merchants, merchantQrCodes },
  publishes: merchantTopics,
  errors: merchantErrorCatalogue,
  transactionTypes: [{ type: 'merchant', label: 'Merchant payment' }],
  permissions: [
    { code: 'merchant:read', description: 'Read merchants' },
    { code: 'merchant:manage', description: 'Register and change merchants' },
  ],
  create(ctx) {
    const options = paymentModuleOptions(ctx);
    const service = new MerchantsService(options);
    const db = ctx.deps.database.db;
    // A merchant's owner reads the merchant wallet (balance, statement, payments) like their own.
    options.wallets.addOwnerCondition(
      (wallet, customerId) =>
        sql`exists (select 1 from ${merchants} where ${merchants.id} = ${wallet.merchantId} and ${merchants.ownerCustomerId} = ${customerId})`,
    );
    // Receipts and statements name the merchant paid.
    options.wallets.documents.setMerchantNames(async (ids) => {
      const rows = await db
        .select({ id: merchants.id, name: merchants.name })
        .from(merchants)
        .where(inArray(merchants.id, ids));
      return new Map(rows.map((row) => [row.id, row.name]));
    });
    ctx.use(transactionsModule).registerPaymentKind({
      type: 'merchant',
      summary: 'a merchant payment by id or QR (as `/wallet/transaction/merchant`)',
      body: MerchantPayment,
      handle: (principal, body, channel, claim, context) =>
        service.pay(principal, body, channel, claim, context),
    });
    return service;
  },
  routes: (service) => merchantRoutes(service),
  approvalActions: (service) => [
    approvalAction<RegistrationPayload>({
      name: 'merchant.register',
      description: 'Register a merchant and open its merchant wallet (always needs a second staff member)',
      permission: 'merchant:manage',
      always: true,
      // The same business: its name (case and spacing aside), owner, place and currency. A corrected filing (another
      // MCC or fee) while the first waits is refused too: cancel the first, then file again.
      dedupeKey: (payload) =>
        JSON.stringify([
          payload.name.trim().replace(/\s+/g, ' ').toLowerCase(),
          payload.owner_customer_id ?? null,
          payload.city.trim().toLowerCase(),
          payload.country,
          payload.currency,
        ]),
      execute: (payload, context) => service.executeRegistration(payload, context),
    }),
  ],
});
