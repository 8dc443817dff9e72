/**
 * What staff and customers read of loans: the loan with its outstanding amounts (the balances of its ledger accounts)
 * and next due instalment, its schedule, its transactions and a statement PDF. Customers see only their own loans;
 * anyone else's answers 404 as if it did not exist.
 */
import type { Executor } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { decodeCursor, type Principal, paginate } from '../../platform/http.ts';
import { formatDecimal, formatMoney } from '../../platform/money.ts';
import { formatLocalTime, renderStatementPdf } from '../../platform/pdf.ts';
import type { WalletsService } from '../wallets/index.ts';
import {
  type InstalmentRow,
  instalmentsOf,
  type LoanFilters,
  type LoanTransactionRow,
  type LoanWithProduct,
  listLoans,
  loanById,
  nextDueOf,
  transactionsOf,
} from './loans.accounts.repository.ts';
import { loansErrors } from './loans.errors.ts';
import type { LoanLedger, LoanOutstanding } from './loans.ledger.ts';
import type { LoanState } from './loans.tables.ts';
import type { ArrearsBucket } from './loans.terms.ts';

const STATEMENT_ROWS = 5000;

export const loanNotFound = () => loansErrors.LOAN_NOT_FOUND();

function outstandingView(outstanding: LoanOutstanding) {
  return {
    principal_minor: outstanding.principal,
    interest_minor: outstanding.interest,
    fee_minor: outstanding.fee,
    penalty_minor: outstanding.penalty,
    total_minor: outstanding.total,
  };
}

export function instalmentView(row: InstalmentRow) {
  const due = row.principalDue + row.interestDue + row.feeDue + row.penaltyDue;
  const paid = row.principalPaid + row.interestPaid + row.feePaid + row.penaltyPaid;
  return {
    seq: row.seq,
    due_date: row.dueDate,
    status: row.status,
    principal_due_minor: row.principalDue,
    interest_due_minor: row.interestDue,
    fee_due_minor: row.feeDue,
    penalty_due_minor: row.penaltyDue,
    principal_paid_minor: row.principalPaid,
    interest_paid_minor: row.interestPaid,
    fee_paid_minor: row.feePaid,
    penalty_paid_minor: row.penaltyPaid,
    interest_accrued_minor: row.interestAccrued,
    total_due_minor: due,
    total_paid_minor: paid,
    remaining_minor: due - paid,
    paid_at: row.paidAt?.toISOString() ?? null,
  };
}

export function loanView(loan: LoanWithProduct, outstanding: LoanOutstanding, nextDue: InstalmentRow | null) {
  return {
    id: loan.id,
    number: loan.number,
    application_id: loan.applicationId,
    customer_id: loan.customerId,
    product_id: loan.productId,
    product_code: loan.productCode,
    product_name: loan.productName,
    product_version: loan.productVersion,
    currency: loan.currency,
    principal_minor: loan.principalMinor,
    term: loan.term,
    frequency: loan.terms.frequency,
    interest_method: loan.terms.interest_method,
    interest_calculation: loan.terms.interest_calculation,
    annual_rate: loan.terms.annual_rate,
    status: loan.status,
    arrears_bucket: loan.arrearsBucket,
    days_past_due: loan.daysPastDue,
    wallet_id: loan.walletId,
    prepaid_minor: loan.prepaidMinor,
    outstanding: outstandingView(outstanding),
    ...(nextDue ? { next_due: instalmentView(nextDue) } : {}),
    approved_by_id: loan.approvedById,
    approved_at: loan.approvedAt?.toISOString() ?? null,
    disbursed_at: loan.disbursedAt?.toISOString() ?? null,
    disbursed_on: loan.disbursedOn,
    closed_at: loan.closedAt?.toISOString() ?? null,
    written_off_at: loan.writtenOffAt?.toISOString() ?? null,
    created_at: loan.createdAt.toISOString(),
  };
}
export type LoanView = ReturnType<typeof loanView>;

/** A part of a payment's split, 0 when the split has none. */
function minorOf(allocation: LoanTransactionRow['allocation'], part: string): bigint {
  const value = allocation?.[part as keyof typeof allocation];
  return value === undefined ? 0n : BigInt(value);
}

export function loanTransactionView(row: LoanTransactionRow) {
  return {
    id: row.id,
    loan_id: row.loanId,
    type: row.type,
    amount_minor: row.amountMinor,
    currency: row.currency,
    ...(row.allocation
      ? {
          allocation: {
            penalty_minor: minorOf(row.allocation, 'penalty'),
            fee_minor: minorOf(row.allocation, 'fee'),
            interest_minor: minorOf(row.allocation, 'interest'),
            principal_minor: minorOf(row.allocation, 'principal'),
            overpayment_minor: minorOf(row.allocation, 'overpayment'),
          },
        }
      : {}),
    source: row.source,
    external_reference: row.externalReference,
    ledger_batch_id: row.ledgerBatchId,
    business_date: row.businessDate,
    actor_type: row.actorType,
    created_at: row.createdAt.toISOString(),
  };
}

const TRANSACTION_LABELS: Record<LoanTransactionRow['type'], string> = {
  disbursement: 'Disbursement',
  repayment: 'Repayment',
  auto_collection: 'Automatic collection',
  interest_accrual: 'Interest',
  penalty: 'Late-payment penalty',
  fee: 'Fee',
  write_off: 'Write-off',
  recovery: 'Recovery',
  overpayment_refund: 'Overpayment returned',
};

export class LoanViews {
  readonly #db: Executor;
  readonly #ledger: LoanLedger;
  readonly #wallets: WalletsService;

  constructor(options: { db: Executor; loanLedger: LoanLedger; wallets: WalletsService }) {
    this.#db = options.db;
    this.#ledger = options.loanLedger;
    this.#wallets = options.wallets;
  }

  /** The loan as the API shows it, read on `executor` (a transaction sees its own writes). */
  async view(executor: Executor, loanId: string): Promise<LoanView> {
    const loan = await loanById(executor, loanId);
    if (!loan) throw loanNotFound();
    const [outstanding, next] = await Promise.all([
      this.#ledger.loanOutstanding(executor, loan),
      nextDueOf(executor, [loan.id]),
    ]);
    return loanView(loan, outstanding, next.get(loan.id) ?? null);
  }

  /** The loan if the principal may see it (customers: their own; anyone else's is 404). */
  async visible(id: string, principal: Pick<Principal, 'type' | 'id'>): Promise<LoanWithProduct> {
    const loan = await loanById(this.#db, id);
    if (!loan || (principal.type === 'customer' && loan.customerId !== principal.id)) throw loanNotFound();
    return loan;
  }

  async get(id: string, principal: Principal): Promise<LoanView> {
    const loan = await this.visible(id, principal);
    return this.view(this.#db, loan.id);
  }

  async list(
    query: {
      status?: LoanState;
      customer_id?: string;
      product_id?: string;
      bucket?: ArrearsBucket;
      limit?: number;
      cursor?: string;
    },
    principal: Principal,
  ) {
    const limit = query.limit ?? 20;
    // Customers see their own; naming another customer is a 404, as on every other list (never an empty page).
    if (principal.type === 'customer' && query.customer_id && query.customer_id !== principal.id)
      throw commonErrors.notFound('Customer');
    const position = decodeCursor(query.cursor, ['id'] as const);
    const filters: LoanFilters = {
      status: query.status,
      customerId: principal.type === 'customer' ? principal.id : query.customer_id,
      productId: query.product_id,
      bucket: query.bucket,
      beforeId: position?.id,
    };
    const rows = await listLoans(this.#db, filters, limit + 1);
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    const next = await nextDueOf(
      this.#db,
      page.items.map((row) => row.id),
    );
    const items = [];
    for (const row of page.items)
      items.push(loanView(row, await this.#ledger.loanOutstanding(this.#db, row), next.get(row.id) ?? null));
    return { items, next_cursor: page.next_cursor };
  }

  async schedule(id: string, principal: Principal) {
    const loan = await this.visible(id, principal);
    const rows = await instalmentsOf(this.#db, loan.id);
    const items = rows.map(instalmentView);
    const sum = (pick: (row: (typeof items)[number]) => bigint) =>
      items.reduce((total, row) => total + pick(row), 0n);
    return {
      loan_id: loan.id,
      number: loan.number,
      currency: loan.currency,
      status: loan.status,
      disbursed_on: loan.disbursedOn,
      items,
      totals: {
        principal_minor: sum((row) => row.principal_due_minor),
        interest_minor: sum((row) => row.interest_due_minor),
        fee_minor: sum((row) => row.fee_due_minor),
        penalty_minor: sum((row) => row.penalty_due_minor),
        due_minor: sum((row) => row.total_due_minor),
        paid_minor: sum((row) => row.total_paid_minor),
      },
    };
  }

  async transactions(id: string, query: { limit?: number; cursor?: string }, principal: Principal) {
    const loan = await this.visible(id, principal);
    const limit = query.limit ?? 50;
    const position = decodeCursor(query.cursor, ['id'] as const);
    const rows = await transactionsOf(this.#db, loan.id, limit + 1, position?.id);
    const page = paginate(rows, limit, (row) => ({ id: row.id }));
    return { items: page.items.map(loanTransactionView), next_cursor: page.next_cursor };
  }

  /** The loan's statement as a PDF: its transactions (with how each payment was split) and what is outstanding. */
  async statementPdf(id: string, principal: Principal): Promise<{ pdf: Buffer; filename: string }> {
    const loan = await this.visible(id, principal);
    const [rows, outstanding] = await Promise.all([
      transactionsOf(this.#db, loan.id, STATEMENT_ROWS),
      this.#ledger.loanOutstanding(this.#db, loan),
    ]);
    const documents = this.#wallets.documents;
    const [institution, zone, names] = await Promise.all([
      documents.institution(),
      documents.timeZoneFor(loan.customerId),
      documents.customerNames([loan.customerId]),
    ]);
    const money = (value: bigint) => formatDecimal(value, loan.currency);
    const now = new Date();
    const details = (row: LoanTransactionRow) => {
      const parts = (['principal', 'interest', 'fee', 'penalty', 'overpayment'] as const)
        .map((part) => [part, minorOf(row.allocation, part)] as const)
        .filter(([, value]) => value > 0n)
        .map(([part, value]) => `${part} ${money(value)}`);
      const source = row.source ? ` (${row.source})` : '';
      return parts.length > 0
        ? `${TRANSACTION_LABELS[row.type]}${source}: ${parts.join(', ')}`
        : TRANSACTION_LABELS[row.type] + source;
    };
    const pdf = await renderStatementPdf({
      institution,
      title: 'Loan statement',
      accountLabel: `Loan ${loan.number} (${loan.productName}, ${loan.currency})`,
      holder: names.get(loan.customerId) ?? '-',
      period: `${loan.disbursedOn ?? 'not disbursed'} to ${formatLocalTime(now, zone)}`,
      timeZone: zone,
      openingBalance: formatMoney(0n, loan.currency),
      closingBalance: `${formatMoney(outstanding.total, loan.currency)} outstanding (principal ${money(outstanding.principal)}, interest ${money(outstanding.interest)}, fees ${money(outstanding.fee)}, penalties ${money(outstanding.penalty)})`,
      columns: [
        { header: 'Date', align: 'left', width: 18 },
        { header: 'Business date', align: 'left', width: 14 },
        { header: 'Details', align: 'left', width: 50 },
        { header: 'Amount', align: 'right', width: 18 },
      ],
      rows: rows.map((row) => [
        formatLocalTime(row.createdAt, zone, { zoneName: false }),
        row.businessDate,
        details(row),
        money(row.amountMinor),
      ]),
      footer: `Generated ${formatLocalTime(now, zone)} (${zone})`,
      generatedAt: now,
    });
    return { pdf, filename: `loan-statement-${loan.number}.pdf` };
  }
}
