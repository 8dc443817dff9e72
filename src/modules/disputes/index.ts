/**
 * Reversals (maker-checker, a new ledger batch inverting the original) and customer disputes (a hold on the
 * recipient's side, then refund or reject), built on the payment engine.
 */
import { approvalAction, defineModule } from '../../platform/modules.ts';
import {
  PAYMENT_MODULE_DEPENDENCIES,
  type PaymentModuleOptions,
  paymentModuleOptions,
} from '../transactions/index.ts';
import { disputeErrorCatalogue } from './disputes.errors.ts';
import { disputeTopics } from './disputes.events.ts';
import { disputeRoutes } from './disputes.routes.ts';
import { DisputesService } from './disputes.service.ts';
import { disputes } from './disputes.tables.ts';
import { type ReversalPayload, ReversalService } from './reversals.service.ts';

export { disputeErrors } from './disputes.errors.ts';
export {
  disputeInvestigating,
  disputeOpened,
  disputeResolved,
  disputeTopics,
  transactionReversed,
} from './disputes.events.ts';
export { DisputeView as DisputeViewSchema } from './disputes.schemas.ts';
export { DisputesService, type DisputeView, disputeView } from './disputes.service.ts';
export { ReversalService } from './reversals.service.ts';

export interface DisputesApi {
  reversals: ReversalService;
  disputes: DisputesService;
}

/** Builds the module's services from the payment engine's options (tests build them on their own options too). */
export function createDisputes(options: PaymentModuleOptions): DisputesApi {
  const db = options.deps.database.db;
  return {
    reversals: new ReversalService({
      db,
      ledger: options.ledger,
      transactions: options.transactions,
      approvals: options.approvals,
    }),
    disputes: new DisputesService({
      db,
      ledger: options.ledger,
      wallets: options.wallets,
      settings: options.settings,
      transactions: options.transactions,
    }),
  };
}

export const disputesModule = defineModule({
  name: 'disputes',
  description:
    'Reversals (maker-checker, an inverting ledger batch) and customer disputes (hold, refund or reject)',
  dependsOn: PAYMENT_MODULE_DEPENDENCIES,
  tables: { disputes },
  publishes: disputeTopics,
  errors: disputeErrorCatalogue,
  transactionTypes: ['reversal', { type: 'refund', label: 'Dispute refund' }],
  permissions: [
    { code: 'transaction:reverse', description: 'Reverse transactions' },
    { code: 'transaction:dispute_manage', description: 'Handle disputes' },
  ],
  create: (ctx) => createDisputes(paymentModuleOptions(ctx)),
  routes: (api) => disputeRoutes(api.reversals, api.disputes),
  approvalActions: (api) => [
    approvalAction<ReversalPayload>({
      name: 'transaction.reverse',
      description:
        'Reverse a completed transaction: a new ledger batch inverting its legs (always needs a second staff member)',
      permission: 'transaction:reverse',
      always: true,
      // One open reversal request per transaction: a second is refused at filing (409), not failed at approval.
      dedupeKey: (payload) => payload.transaction_id,
      execute: (payload, context) => api.reversals.execute(payload, context),
    }),
  ],
});
