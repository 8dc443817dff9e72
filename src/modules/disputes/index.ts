/**
 * Reversals (maker-checker, a new ledger batch inverting the original) and customer disputes (a hold on the
 * recipient's side, then refund or reject), built on the payment engine.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { PaymentModuleOptions } from '../transactions/index.ts';
import { disputeRoutes } from './disputes.routes.ts';
import { DisputesService } from './disputes.service.ts';
import { type ReversalPayload, ReversalService } from './reversals.service.ts';

export { disputeErrors } from './disputes.errors.ts';
export { DisputeView as DisputeViewSchema } from './disputes.schemas.ts';
export { DisputesService, type DisputeView, disputeView } from './disputes.service.ts';
export { ReversalService } from './reversals.service.ts';

export function createDisputes(options: PaymentModuleOptions): {
  plugin: FastifyPluginAsync;
  reversals: ReversalService;
  disputes: DisputesService;
} {
  const db = options.deps.database.db;
  const reversals = new ReversalService({
    db,
    ledger: options.ledger,
    transactions: options.transactions,
    approvals: options.approvals,
  });
  const disputes = new DisputesService({
    db,
    ledger: options.ledger,
    wallets: options.wallets,
    settings: options.settings,
    transactions: options.transactions,
  });
  options.approvals.register<ReversalPayload>({
    name: 'transaction.reverse',
    description:
      'Reverse a completed transaction: a new ledger batch inverting its legs (always needs a second staff member)',
    permission: 'transaction:reverse',
    always: true,
    // One open reversal request per transaction: a second is refused at filing (409), not failed at approval.
    dedupeKey: (payload) => payload.transaction_id,
    execute: (payload, context) => reversals.execute(payload, context),
  });
  return {
    reversals,
    disputes,
    plugin: async (app) => {
      await app.register(disputeRoutes(reversals, disputes));
    },
  };
}
