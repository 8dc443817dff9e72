/**
 * Approval (issue 16). Approval fixes the terms (a copy of the product version's), creates the loan (`approved`) and
 * a provisional schedule counted from today (disbursement counts it again from the actual business date). A loan
 * officer approves within their role's limit for the currency; above the terms' maker-checker amount a second staff
 * member must agree (the `loan.approve` approval action). The application pipeline approves automatically through the
 * `LoanApprover` port. Disbursement is `loans.accounts.disburse.ts`, approval limits `loans.accounts.limits.ts`.
 */
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { Principal } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { humanNumber, uuidv7 } from '../../platform/ids.ts';
import { formatMoney } from '../../platform/money.ts';
import { emitEvent } from '../../platform/outbox.ts';
import type { ApprovalService, ApprovalView } from '../approvals/index.ts';
import { rolesOfUsers } from '../identity/index.ts';
import type { NotificationsService } from '../notifications/index.ts';
import type { WalletsService } from '../wallets/index.ts';
import { businessToday, LoanDisbursement, loanSchedule, notifyCustomer } from './loans.accounts.disburse.ts';
import { ApprovalLimits } from './loans.accounts.limits.ts';
import {
  type ApplicationRow,
  applicationById,
  approvalLimitOf,
  decideApplication,
  fraudFlagCleared,
  insertLoan,
  loanByApplication,
  lockApplication,
  productVersion,
  replaceInstalments,
} from './loans.accounts.repository.ts';
import { loansErrors } from './loans.errors.ts';
import { loanApplicationDecided } from './loans.events.ts';
import type { LoanLedger } from './loans.ledger.ts';
import type { LoanApprover } from './loans.ports.ts';
import type { LoanView, LoanViews } from './loans.views.ts';

/** The maker-checker action of an approval above the terms' maker-checker amount. */
export const APPROVE_ACTION = 'loan.approve';

export interface ApprovePayload {
  application_id: string;
  maker_id: string;
}

export interface DecisionView {
  application_id: string;
  application_number: string;
  status: 'approved' | 'declined';
  reasons: { code: string; message: string }[];
  /** Absent on a decline. */
  loan?: LoanView;
}

type Approver = Principal | { type: 'system'; id: 'system' };

const codes = loansErrors;
const applicationNotFound = () => codes.LOAN_APPLICATION_NOT_FOUND();
const notApprovable = (status: string) =>
  codes.LOAN_APPLICATION_NOT_APPROVABLE({ params: { status }, details: { status } });

export class LoanAccountsService implements LoanApprover {
  readonly #db: Executor;
  readonly #wallets: WalletsService;
  readonly #approvals: ApprovalService;
  readonly #notifications: NotificationsService | null;
  readonly #views: LoanViews;
  /** `/loan/loan/disburse`. */
  readonly disbursement: LoanDisbursement;
  /** Approval limits per role and currency. */
  readonly limits: ApprovalLimits;
  /** The loan reads (views, schedule, transactions, statement). */
  readonly views: LoanViews;
  /** The loans' ledger accounting (repayments, close of business and collections post through it too). */
  readonly loanLedger: LoanLedger;

  constructor(options: {
    db: Executor;
    loanLedger: LoanLedger;
    wallets: WalletsService;
    approvals: ApprovalService;
    notifications: NotificationsService | null;
    views: LoanViews;
  }) {
    this.#db = options.db;
    this.#wallets = options.wallets;
    this.#approvals = options.approvals;
    this.#notifications = options.notifications;
    this.#views = options.views;
    this.views = options.views;
    this.loanLedger = options.loanLedger;
    this.disbursement = new LoanDisbursement(options);
    this.limits = new ApprovalLimits(options.db);
  }

  /**
   * The port: the application pipeline approves a submitted or referred application automatically. The pipeline
   * announces the decision itself (the loans.application_decided event and the customer's message) once this
   * returns, so this does not; a retry after the loan exists returns the same loan.
   */
  async approveApplication(
    applicationId: string,
    principal: Approver,
    context: RequestContext,
  ): Promise<{ loan_id: string }> {
    const walletId = await this.#walletFor(applicationId);
    return inTransaction(this.#db, async (tx) => {
      const application = await lockApplication(tx, applicationId);
      if (!application) throw applicationNotFound();
      if (application.status === 'approved') {
        const existing = await loanByApplication(tx, applicationId);
        if (existing) return { loan_id: existing.id };
      }
      if (application.status !== 'submitted' && application.status !== 'referred')
        throw notApprovable(application.status);
      const loanId = await this.#approve(tx, application, walletId, principal.id, context, false);
      return { loan_id: loanId };
    });
  }

  /**
   * `/loan/loan/approve`: a loan officer approves (within their role's limit; above the terms' maker-checker amount
   * the request waits for a second staff member: 202) or declines a referred application.
   */
  async decide(
    principal: Principal,
    input: { application_id: string; decision?: 'approve' | 'decline'; reason?: string },
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ): Promise<{ status: 200; body: DecisionView } | { status: 202; body: ApprovalView }> {
    const application = await applicationById(this.#db, input.application_id);
    if (!application) throw applicationNotFound();
    await this.#assertManual(this.#db, application);
    if (input.decision === 'decline')
      return {
        status: 200,
        body: await this.#decline(principal, application.id, input.reason, claim, context),
      };
    const version = await productVersion(this.#db, application.productId, application.productVersion);
    if (!version) throw applicationNotFound();
    await this.#assertLimit(principal.roles, application);
    const payload: ApprovePayload = { application_id: application.id, maker_id: principal.id };
    if (application.amountMinor > BigInt(version.terms.maker_checker_above_minor)) {
      const outcome = await this.#approvals.run<ApprovePayload, DecisionView>(
        APPROVE_ACTION,
        payload,
        {
          summary: `Approve loan application ${application.number} for ${formatMoney(application.amountMinor, application.currency)}`,
          entityType: 'loan_application',
          entityId: application.id,
        },
        context,
        { always: true, claim },
      );
      return outcome.kind === 'done'
        ? { status: 200, body: outcome.result }
        : { status: 202, body: outcome.request };
    }
    return { status: 200, body: await this.executeApproval(payload, context, claim) };
  }

  /** The approval itself: directly, or when a second staff member approves the maker-checker request. */
  async executeApproval(
    payload: ApprovePayload,
    context: RequestContext,
    claim: IdempotencyClaim | null = null,
  ): Promise<DecisionView> {
    const walletId = await this.#walletFor(payload.application_id);
    return inTransaction(this.#db, async (tx) => {
      const application = await lockApplication(tx, payload.application_id);
      if (!application) throw applicationNotFound();
      await this.#assertManual(tx, application);
      const loanId = await this.#approve(
        tx,
        application,
        walletId,
        context.actor.id ?? payload.maker_id,
        context,
        true,
      );
      const body: DecisionView = {
        application_id: application.id,
        application_number: application.number,
        status: 'approved',
        reasons: [],
        loan: await this.#views.view(tx, loanId),
      };
      await claim?.commit(tx, 200, body);
      return body;
    });
  }

  /**
   * The `loan.approve` action, when a second staff member approves the request: they too must be able to approve the
   * amount themselves (a limit for the currency on one of their roles at least the amount).
   */
  async executeCheckedApproval(payload: ApprovePayload, context: RequestContext): Promise<DecisionView> {
    const application = await applicationById(this.#db, payload.application_id);
    if (!application) throw applicationNotFound();
    const checker = context.actor.id;
    const roles = checker ? ((await rolesOfUsers(this.#db, [checker])).get(checker) ?? []) : [];
    await this.#assertLimit(roles, application);
    return this.executeApproval(payload, context);
  }

  /** The highest approval limit of the roles in the application's currency must be at least its amount. */
  async #assertLimit(roles: readonly string[], application: ApplicationRow): Promise<void> {
    const limit = await approvalLimitOf(this.#db, roles, application.currency);
    if (limit === null)
      throw codes.LOAN_APPROVAL_NOT_PERMITTED({
        params: { currency: application.currency },
        details: { currency: application.currency, roles: [...roles] },
      });
    if (application.amountMinor > limit)
      throw codes.LOAN_APPROVAL_LIMIT_EXCEEDED({
        params: { limit: formatMoney(limit, application.currency) },
        details: { limit_minor: limit.toString(), amount_minor: application.amountMinor.toString() },
      });
  }

  /** Only a referred application (or one submitted again after its fraud flag was cleared) is decided by hand. */
  async #assertManual(executor: Executor, application: ApplicationRow): Promise<void> {
    if (application.status === 'referred') return;
    if (application.status === 'submitted' && (await fraudFlagCleared(executor, application.id))) return;
    throw notApprovable(application.status);
  }

  async #decline(
    principal: Principal,
    applicationId: string,
    reason: string | undefined,
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ): Promise<DecisionView> {
    return inTransaction(this.#db, async (tx) => {
      const application = await lockApplication(tx, applicationId);
      if (!application) throw applicationNotFound();
      await this.#assertManual(tx, application);
      const reasons = [{ code: 'LOAN_OFFICER_DECLINED', message: reason ?? 'Declined by a loan officer' }];
      const row = await decideApplication(tx, application.id, {
        status: 'declined',
        decidedById: principal.id,
        reasons,
      });
      await this.#announce(tx, row, 'declined', reasons);
      await writeAudit(tx, context, {
        action: 'loan.application_declined',
        entityType: 'loan_application',
        entityId: row.id,
        before: { status: application.status },
        after: { status: 'declined', reasons },
      });
      const body: DecisionView = {
        application_id: row.id,
        application_number: row.number,
        status: 'declined',
        reasons,
      };
      await claim?.commit(tx, 200, body);
      return body;
    });
  }

  /** The decision event and the customer's message (in their language; the adverse-action reasons on a decline). */
  async #announce(
    tx: Executor,
    row: ApplicationRow,
    status: 'approved' | 'declined',
    reasons: { code: string; message: string }[],
  ): Promise<void> {
    await emitEvent(
      tx,
      loanApplicationDecided,
      { type: 'loan_application', id: row.id },
      { application_id: row.id, number: row.number, customer_id: row.customerId, status, reasons },
    );
    const amount = formatMoney(row.amountMinor, row.currency);
    const why = reasons.map((reason) => reason.message).join('; ');
    await notifyCustomer(this.#notifications, tx, {
      customerId: row.customerId,
      dedupeKey: `loan-application:${row.id}:${status}`,
      data: { application_id: row.id, status },
      ...(status === 'approved'
        ? {
            title: { en: 'Loan approved', fr: 'Prêt approuvé', sw: 'Mkopo umeidhinishwa' },
            message: {
              en: `Your loan application ${row.number} for ${amount} was approved.`,
              fr: `Votre demande de prêt ${row.number} de ${amount} a été approuvée.`,
              sw: `Ombi lako la mkopo ${row.number} la ${amount} limeidhinishwa.`,
            },
          }
        : {
            title: { en: 'Loan declined', fr: 'Prêt refusé', sw: 'Mkopo umekataliwa' },
            message: {
              en: `Your loan application ${row.number} for ${amount} was declined: ${why}`,
              fr: `Votre demande de prêt ${row.number} de ${amount} a été refusée : ${why}`,
              sw: `Ombi lako la mkopo ${row.number} la ${amount} limekataliwa: ${why}`,
            },
          }),
    });
  }

  /** The customer's wallet in the application's currency (read before the transaction: a pool read). */
  async #walletFor(applicationId: string): Promise<string> {
    const application = await applicationById(this.#db, applicationId);
    if (!application) throw applicationNotFound();
    const wallet = await this.#wallets.findCustomerWallet(application.customerId, application.currency);
    if (!wallet || wallet.status === 'closed')
      throw codes.LOAN_WALLET_UNAVAILABLE({
        params: { currency: application.currency },
        details: { currency: application.currency },
      });
    return wallet.id;
  }

  /** Fixes the terms, creates the loan and its provisional schedule (from today), marks the application approved. */
  async #approve(
    tx: Executor,
    application: ApplicationRow,
    walletId: string,
    approvedById: string | null,
    context: RequestContext,
    announce: boolean,
  ): Promise<string> {
    const version = await productVersion(tx, application.productId, application.productVersion);
    if (!version) throw applicationNotFound();
    const terms = structuredClone(version.terms);
    // Provisional: counted from today; disbursement counts it again from the actual business date.
    const lines = await loanSchedule(tx, {
      principal: application.amountMinor,
      currency: application.currency,
      term: application.term,
      terms,
      from: businessToday(),
    });
    const loan = await insertLoan(tx, {
      id: uuidv7(),
      number: humanNumber('LN-'),
      applicationId: application.id,
      customerId: application.customerId,
      productId: application.productId,
      productVersion: application.productVersion,
      terms,
      currency: application.currency,
      principalMinor: application.amountMinor,
      term: application.term,
      status: 'approved',
      walletId,
      approvedById,
      approvedAt: new Date(),
    });
    await replaceInstalments(tx, loan.id, lines);
    const decided = await decideApplication(tx, application.id, {
      status: 'approved',
      decidedById: approvedById,
      reasons: null,
    });
    if (announce) await this.#announce(tx, decided, 'approved', []);
    await writeAudit(tx, context, {
      action: 'loan.approved',
      entityType: 'loan',
      entityId: loan.id,
      after: {
        number: loan.number,
        application_id: application.id,
        principal_minor: loan.principalMinor.toString(),
        currency: loan.currency,
        term: loan.term,
        product_version: loan.productVersion,
      },
    });
    return loan.id;
  }
}
