/**
 * Loan applications: a customer applies for themselves, or staff with `loan:apply` on a customer's behalf. The
 * submission checks the product (active, amount and term in range), the documents (the applicant's own) and the
 * eligibility rules, inserts the application and runs the fraud check in the same transaction; a flagged application
 * waits for an investigation, any other goes on to scoring and the decision (loans.applications.pipeline.ts).
 * Customers reach only their own applications (another's answers 404).
 */
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { AppError, commonErrors } from '../../platform/errors.ts';
import type { Subscription } from '../../platform/events.ts';
import { decodeCursor, type Principal, paginate, staffOrCustomer } from '../../platform/http.ts';
import type { IdempotencyClaim } from '../../platform/idempotency.ts';
import { humanNumber, uuidv7 } from '../../platform/ids.ts';
import { formatMoney } from '../../platform/money.ts';
import { emitEvent } from '../../platform/outbox.ts';
import { lockCustomerTier } from '../customers/index.ts';
import { eligibilityReasons } from './loans.applications.eligibility.ts';
import { applicationDecisionSubscriptions, type DecisionNotifier } from './loans.applications.notify.ts';
import { ApplicationPipeline, type PipelinePorts } from './loans.applications.pipeline.ts';
import {
  type ApplicationRow,
  activeLoanCount,
  insertApplication,
  loadApplication,
  lockApplication,
  selectApplications,
  updateApplication,
} from './loans.applications.repository.ts';
import { type ApplicationView, applicationView, applicationViewFor } from './loans.applications.views.ts';
import { loansErrors } from './loans.errors.ts';
import { loanApplicationSubmitted } from './loans.events.ts';
import type { LoanProductsService } from './loans.products.ts';

export interface SubmitInput {
  customer_id?: string;
  product_id: string;
  amount_minor: number;
  term: number;
  purpose: string;
  declared_monthly_income_minor: number;
  document_ids?: string[];
}

export interface ApplicationsOptions {
  db: Executor;
  products: LoanProductsService;
  /** The rank of a KYC tier code (kyc module); null when there is no such tier. */
  /** Every KYC tier's rank by code (one read). */
  tierRanks: () => Promise<Map<string, number>>;
  /** The customer's wallet in a currency (wallets module). */
  walletOf: (
    customerId: string,
    currency: string,
  ) => Promise<{ status: string; createdAt: Date } | undefined>;
  /** A document as the principal may see it (documents module; another customer's answers 404). */
  document: (id: string, principal: Principal) => Promise<{ customer_id: string; status: string }>;
  notifier: DecisionNotifier | null;
}

/** States in which the applicant may still withdraw or add documents. */
const OPEN_STATES: readonly ApplicationRow['status'][] = ['submitted', 'flagged', 'referred'];

/** The states a status filter means: to a customer a fraud hold is `referred` (and `flagged` names nothing). */
function statusesShown(
  status: ApplicationRow['status'] | undefined,
  principal: Pick<Principal, 'type'>,
): ApplicationRow['status'][] | undefined {
  if (!status) return undefined;
  if (principal.type !== 'customer') return [status];
  if (status === 'flagged') return [];
  return status === 'referred' ? ['referred', 'flagged'] : [status];
}

export class LoanApplicationsService {
  readonly #db: Executor;
  readonly #options: ApplicationsOptions;
  readonly #pipeline: ApplicationPipeline;

  constructor(options: ApplicationsOptions) {
    this.#db = options.db;
    this.#options = options;
    this.#pipeline = new ApplicationPipeline({ db: options.db, products: options.products });
  }

  /** The module consumer's handlers: the customer's message on each decision. */
  subscriptions(): Subscription[] {
    return this.#options.notifier ? applicationDecisionSubscriptions(this.#options.notifier) : [];
  }

  /** Wires the other areas in (index.ts once they are built; tests may put their own in). */
  connect(ports: PipelinePorts): void {
    this.#pipeline.ports = { ...this.#pipeline.ports, ...ports };
  }

  async submit(
    principal: Principal,
    input: SubmitInput,
    deviceId: string | null,
    claim: IdempotencyClaim | null,
    context: RequestContext,
  ): Promise<ApplicationView> {
    if (
      principal.type === 'customer' &&
      input.customer_id !== undefined &&
      input.customer_id !== principal.id
    )
      throw commonErrors.notFound('Customer');
    const customerId = principal.type === 'customer' ? principal.id : input.customer_id;
    if (!customerId)
      throw commonErrors.validation('customer_id is required when staff apply', {
        errors: [
          {
            field: 'body.customer_id',
            message: 'is required when staff apply on a customer’s behalf',
            rule: 'required',
          },
        ],
      });
    const { product, terms } = await this.#options.products.current(input.product_id);
    if (product.status !== 'active')
      throw loansErrors.LOAN_PRODUCT_RETIRED({ params: { code: product.code } });
    const amount = BigInt(input.amount_minor);
    const min = BigInt(terms.min_amount_minor);
    const max = BigInt(terms.max_amount_minor);
    if (amount < min || amount > max)
      throw loansErrors.LOAN_AMOUNT_OUT_OF_RANGE({
        params: { min: formatMoney(min, product.currency), max: formatMoney(max, product.currency) },
        details: {
          field: 'body.amount_minor',
          min_amount_minor: min.toString(),
          max_amount_minor: max.toString(),
        },
      });
    if (input.term < terms.min_term || input.term > terms.max_term)
      throw loansErrors.LOAN_TERM_OUT_OF_RANGE({
        params: { min: terms.min_term, max: terms.max_term },
        details: { field: 'body.term', min_term: terms.min_term, max_term: terms.max_term },
      });
    const documentIds = [...new Set(input.document_ids ?? [])];
    await this.#checkDocuments(documentIds, customerId, principal);
    const wallet = await this.#options.walletOf(customerId, product.currency);
    // Tier ranks read before the transaction: a read on another connection inside it could wait for a pool slot
    // that every concurrent submission holds (the pool would deadlock at pool-size concurrent applications).
    const ranks = await this.#options.tierRanks();
    // Likewise what the fraud rules read from other modules' services and the phone-ownership provider (HTTP).
    const fraudPort = this.#pipeline.ports.fraud;
    const prefetched = fraudPort ? await fraudPort.prepare(customerId, product.currency) : null;
    const id = uuidv7();
    const shown = (view: ApplicationView) => applicationViewFor(view, principal);
    const flagged = await inTransaction(this.#db, async (tx) => {
      // One submission per customer at a time: the active-loan count cannot change under the check.
      const customer = await lockCustomerTier(tx, customerId);
      if (!customer || customer.erasedAt) throw commonErrors.notFound('Customer');
      const reasons = await eligibilityReasons(terms, product.currency, {
        customerStatus: customer.status,
        customerTier: customer.kycTier,
        tierRank: async (code) => ranks.get(code) ?? null,
        wallet,
        activeLoans: await activeLoanCount(tx, customerId),
        now: new Date(),
      });
      if (reasons.length > 0) throw loansErrors.LOAN_NOT_ELIGIBLE({ details: { reasons } });
      await insertApplication(tx, {
        id,
        number: humanNumber('LA-'),
        customerId,
        productId: product.id,
        productVersion: product.currentVersion,
        amountMinor: amount,
        currency: product.currency,
        term: input.term,
        purpose: input.purpose,
        declaredMonthlyIncomeMinor: BigInt(input.declared_monthly_income_minor),
        status: 'submitted',
        channel: principal.channel,
        deviceId,
        documentIds,
        submittedByType: staffOrCustomer(principal).type,
        submittedById: principal.id,
      });
      const row = (await lockApplication(tx, id))!;
      await emitEvent(
        tx,
        loanApplicationSubmitted,
        { type: 'loan_application', id },
        {
          application_id: id,
          number: row.number,
          customer_id: customerId,
          product_id: product.id,
          amount_minor: amount.toString(),
          currency: product.currency,
        },
      );
      const fraud = fraudPort && prefetched ? await fraudPort.check(tx, id, context, prefetched) : null;
      if (fraud) {
        await updateApplication(tx, id, {
          fraudScore: fraud.score,
          ...(fraud.flagged ? { status: 'flagged' } : {}),
        });
        if (fraud.flagged) await this.#pipeline.announce(tx, row, 'flagged', []);
      }
      const submitted = applicationView((await loadApplication(tx, id))!);
      await claim?.commit(tx, 201, shown(submitted));
      // Last: the audit chain's lock is held from here to the commit, not through the fraud rules (ADR: audit.ts).
      await writeAudit(tx, context, {
        action: 'loan_application.submitted',
        entityType: 'loan_application',
        entityId: id,
        after: submitted,
      });
      return fraud?.flagged ?? false;
    });
    if (flagged) return shown(applicationView((await loadApplication(this.#db, id))!));
    return this.#pipeline.scoreAndDecide(id, context, claim, shown);
  }

  /**
   * An investigation cleared a flagged application: it goes on to scoring and the decision. Call it after the
   * clearing transaction committed (scoring may call the bureau, never inside a transaction).
   */
  async continueAfterFraud(applicationId: string, context: RequestContext): Promise<ApplicationView> {
    await inTransaction(this.#db, async (tx) => {
      const row = await lockApplication(tx, applicationId);
      if (!row) throw loansErrors.LOAN_APPLICATION_NOT_FOUND();
      if (row.status !== 'flagged' && row.status !== 'submitted')
        throw loansErrors.LOAN_APPLICATION_WRONG_STATE({ params: { status: row.status } });
      if (row.status === 'flagged') await updateApplication(tx, row.id, { status: 'submitted' });
      await writeAudit(tx, context, {
        action: 'loan_application.fraud_cleared',
        entityType: 'loan_application',
        entityId: row.id,
        before: { status: row.status },
        after: { status: 'submitted' },
      });
    });
    return this.#pipeline.scoreAndDecide(applicationId, context, null, (view) => view);
  }

  async get(id: string, principal: Principal): Promise<ApplicationView> {
    const loaded = await loadApplication(this.#db, id);
    if (!loaded || (principal.type === 'customer' && loaded.application.customerId !== principal.id))
      throw loansErrors.LOAN_APPLICATION_NOT_FOUND();
    return applicationViewFor(applicationView(loaded), principal);
  }

  async list(
    query: {
      status?: ApplicationRow['status'];
      customer_id?: string;
      product_id?: string;
      limit?: number;
      cursor?: string;
    },
    principal: Principal,
  ) {
    const limit = query.limit ?? 20;
    // Customers see their own; naming another customer is a 404, as everywhere else.
    if (principal.type === 'customer' && query.customer_id && query.customer_id !== principal.id)
      throw commonErrors.notFound('Customer');
    const position = decodeCursor(query.cursor, ['id'] as const);
    const rows = await selectApplications(
      this.#db,
      {
        customerId: principal.type === 'customer' ? principal.id : query.customer_id,
        productId: query.product_id,
        statuses: statusesShown(query.status, principal),
        beforeId: position?.id,
      },
      limit + 1,
    );
    const page = paginate(rows, limit, (row) => ({ id: row.application.id }));
    return {
      items: page.items.map((row) => applicationViewFor(applicationView(row), principal)),
      next_cursor: page.next_cursor,
    };
  }

  /** More documents while the application is still open (submitted, flagged or referred). */
  async attachDocuments(
    principal: Principal,
    input: { application_id: string; document_ids: string[] },
    context: RequestContext,
  ): Promise<ApplicationView> {
    const found = await this.get(input.application_id, principal);
    await this.#checkDocuments(input.document_ids, found.customer_id, principal);
    return inTransaction(this.#db, async (tx) => {
      const row = await this.#openRow(tx, input.application_id, principal);
      const documentIds = [...new Set([...row.documentIds, ...input.document_ids])];
      await updateApplication(tx, row.id, { documentIds });
      await writeAudit(tx, context, {
        action: 'loan_application.documents_added',
        entityType: 'loan_application',
        entityId: row.id,
        before: { document_ids: row.documentIds },
        after: { document_ids: documentIds },
      });
      return applicationViewFor(applicationView((await loadApplication(tx, row.id))!), principal);
    });
  }

  /** The applicant (or staff with loan:apply) withdraws an application not yet decided. */
  async withdraw(
    principal: Principal,
    input: { application_id: string; reason?: string },
    context: RequestContext,
  ): Promise<ApplicationView> {
    return inTransaction(this.#db, async (tx) => {
      const row = await this.#openRow(tx, input.application_id, principal);
      await updateApplication(tx, row.id, { status: 'withdrawn' });
      await writeAudit(tx, context, {
        action: 'loan_application.withdrawn',
        entityType: 'loan_application',
        entityId: row.id,
        before: { status: row.status },
        after: { status: 'withdrawn', reason: input.reason ?? null },
      });
      return applicationViewFor(applicationView((await loadApplication(tx, row.id))!), principal);
    });
  }

  async #openRow(tx: Executor, id: string, principal: Principal): Promise<ApplicationRow> {
    const row = await lockApplication(tx, id);
    if (!row || (principal.type === 'customer' && row.customerId !== principal.id))
      throw loansErrors.LOAN_APPLICATION_NOT_FOUND();
    if (!OPEN_STATES.includes(row.status))
      throw loansErrors.LOAN_APPLICATION_WRONG_STATE({ params: { status: row.status } });
    return row;
  }

  /** Each document must be the applicant's own and not rejected or expired. */
  async #checkDocuments(ids: readonly string[], customerId: string, principal: Principal): Promise<void> {
    for (const documentId of ids) {
      const unusable = () =>
        loansErrors.LOAN_DOCUMENT_NOT_USABLE({
          params: { document_id: documentId },
          details: { document_id: documentId },
        });
      let document: { customer_id: string; status: string };
      try {
        document = await this.#options.document(documentId, principal);
      } catch (error) {
        if (error instanceof AppError && error.statusCode === 404) throw unusable();
        throw error;
      }
      if (
        document.customer_id !== customerId ||
        document.status === 'rejected' ||
        document.status === 'expired'
      )
        throw unusable();
    }
  }
}
