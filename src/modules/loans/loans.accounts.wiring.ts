/**
 * Builds the accounts area (approval, disbursement, the loans' ledger accounting, the loan reads) from the modules it
 * uses, and declares its maker-checker action. index.ts calls these in `create` and `approvalActions`.
 */
import { approvalAction, type ModuleContext } from '../../platform/modules.ts';
import { approvalsModule } from '../approvals/index.ts';
import { ledgerModule } from '../ledger/index.ts';
import { notificationsModule } from '../notifications/index.ts';
import { walletsModule } from '../wallets/index.ts';
import { APPROVE_ACTION, type ApprovePayload, LoanAccountsService } from './loans.accounts.ts';
import { LoanLedger } from './loans.ledger.ts';
import { LoanViews } from './loans.views.ts';

export function buildAccounts(ctx: ModuleContext): { accounts: LoanAccountsService; loanLedger: LoanLedger } {
  const db = ctx.deps.database.db;
  const wallets = ctx.use(walletsModule);
  const loanLedger = new LoanLedger(ctx.use(ledgerModule));
  const views = new LoanViews({ db, loanLedger, wallets });
  const accounts = new LoanAccountsService({
    db,
    loanLedger,
    wallets,
    approvals: ctx.use(approvalsModule),
    notifications: ctx.use(notificationsModule).service,
    views,
  });
  return { accounts, loanLedger };
}

/**
 * `loan.approve`: an approval above the terms' maker-checker amount, carried out when a second staff member agrees
 * (within their own approval limit).
 */
export function accountApprovalActions(accounts: LoanAccountsService) {
  return [
    approvalAction<ApprovePayload>({
      name: APPROVE_ACTION,
      description:
        'Approve a loan application above its product’s maker-checker amount (fixes the terms, creates the loan)',
      permission: 'loan:approve',
      always: true,
      // One open approval request per application.
      dedupeKey: (payload) => payload.application_id,
      execute: (payload, context) => accounts.executeCheckedApproval(payload, context),
    }),
  ];
}
