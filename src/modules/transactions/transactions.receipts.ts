/**
 * Receipts (JSON and PDF) and the one-line descriptions statements show. A receipt names both sides — the people by
 * name and wallet number, a merchant by name and merchant number, a biller with the account or meter number paid —
 * prints fee and excise duty on their own lines, shows its time in the customer's time zone, and carries a QR code
 * of a verification URL (under PUBLIC_BASE_URL) that anyone holding the receipt can open to check it is genuine.
 */
import { constantTimeEqualHex, keyedHash } from '../../platform/crypto.ts';
import type { Executor } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import type { Principal } from '../../platform/http.ts';
import { formatMoney } from '../../platform/money.ts';
import { formatLocalTime, localIsoTime, renderReceiptPdf } from '../../platform/pdf.ts';
import type { TransactionTypes } from '../../platform/transaction-types.ts';
import type { WalletRow, WalletsService } from '../wallets/index.ts';
import type { Counterparty } from './transactions.counterparties.ts';
import { transactionErrors } from './transactions.errors.ts';
import type { TransactionRow as Row } from './transactions.plan.ts';
import { transactionByReference, transactionsById } from './transactions.repository.ts';
import type { TransactionsService } from './transactions.service.ts';

/** Receipt verification codes: 64 bits of an HMAC of the reference under the server pepper. */
const VERIFICATION_PURPOSE = 'receipt-verification';

interface Biller {
  code: string;
  name: string;
  account_number: string | null;
  account_name: string | null;
}

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

export class ReceiptsService {
  readonly #deps: Dependencies;
  readonly #transactions: TransactionsService;
  readonly #wallets: WalletsService;

  /** The declared transaction types: their labels ("Bill payment") come with the declaring module's declaration. */
  readonly #types: TransactionTypes;

  constructor(options: {
    deps: Dependencies;
    transactions: TransactionsService;
    wallets: WalletsService;
    types: TransactionTypes;
  }) {
    this.#types = options.types;
    this.#deps = options.deps;
    this.#transactions = options.transactions;
    this.#wallets = options.wallets;
  }

  get #db(): Executor {
    return this.#deps.database.db;
  }

  verificationCode(reference: string): string {
    return keyedHash(this.#deps.config.HMAC_PEPPER, VERIFICATION_PURPOSE, reference).slice(0, 16);
  }

  verificationUrl(reference: string): string {
    const base = this.#deps.config.PUBLIC_BASE_URL.replace(/\/$/, '');
    const query = new URLSearchParams({ reference, code: this.verificationCode(reference) });
    return `${base}/api/v1/transaction/receipt/verify?${query}`;
  }

  /** The billers paid, by transaction id: the bills module registers their lookup (`transactions.counterparties`). */
  #billers(rows: readonly Row[]): Promise<Map<string, Counterparty>> {
    return this.#transactions.counterparties.of(rows.filter((row) => row.type === 'bill' && row.billerId));
  }

  #biller(row: Row, known: Map<string, Counterparty>): Biller | null {
    if (row.type !== 'bill' || !row.billerId) return null;
    const biller = known.get(row.id);
    return {
      code: biller?.code ?? text(row.metadata?.biller_code) ?? '',
      name: biller?.name ?? text(row.metadata?.biller_code) ?? 'Biller',
      account_number: text(row.metadata?.bill_reference),
      account_name: text(row.metadata?.bill_account_name),
    };
  }

  /** The receipt a principal may see (payees: what they received, not the payer's fee). */
  async receipt(id: string, principal: Principal) {
    const view = await this.#transactions.get(id, principal);
    const row = await this.#transactions.row(id);
    const walletIds = [row.sourceWalletId, row.destinationWalletId].filter(
      (wallet): wallet is string => wallet !== null,
    );
    const walletRows = await Promise.all(walletIds.map((wallet) => this.#wallets.row(wallet)));
    const byId = new Map(walletRows.map((wallet) => [wallet.id, wallet]));
    const source = row.sourceWalletId ? byId.get(row.sourceWalletId) : undefined;
    const destination = row.destinationWalletId ? byId.get(row.destinationWalletId) : undefined;
    const [names, knownBillers, merchantNames, timeZone] = await Promise.all([
      this.#wallets.documents.ownerNames(walletRows),
      this.#billers([row]),
      this.#wallets.documents.merchantNames([row.merchantId]),
      this.#wallets.documents.timeZoneFor(
        principal.type === 'customer' ? principal.id : (row.customerId ?? row.counterpartyCustomerId),
      ),
    ]);
    // A payee sees who paid them by name, not the payer's wallet number (the view hides the payer's wallet).
    const party = (wallet: WalletRow | undefined, showNumber: boolean) =>
      wallet
        ? { wallet_number: showNumber ? wallet.walletNumber : null, name: names.get(wallet.id) ?? null }
        : null;
    // A reversal or dispute refund returns money to the original payer's wallet, whose number the payment hid from
    // the payee: the payee (debited here) sees whom it went back to by name only, as on the payment's receipt.
    const returned = row.type === 'reversal' || row.type === 'refund';
    const showsDestination =
      !returned || principal.type !== 'customer' || destination?.customerId === principal.id;
    // The payee does not see the payer's fee: only what they received (the view has zeroed it already).
    const occurred = new Date(view.completed_at ?? view.created_at);
    const merchantName = row.merchantId ? merchantNames.get(row.merchantId) : undefined;
    return {
      reference: view.reference,
      type: view.type,
      type_label: this.#types.label(view.type),
      status: view.status,
      occurred_at: occurred.toISOString(),
      occurred_at_local: localIsoTime(occurred, timeZone),
      time_zone: timeZone,
      from: party(source, view.source_wallet_id !== null),
      to: party(destination, showsDestination),
      biller: this.#biller(row, knownBillers),
      merchant:
        row.type === 'merchant' && row.merchantId
          ? { merchant_number: text(row.metadata?.merchant_number), name: merchantName ?? null }
          : null,
      amount: view.amount,
      currency: view.currency,
      amount_display: view.amount_display,
      fee: view.fee,
      tax: view.tax,
      total: view.total,
      total_display: view.total_display,
      narration: view.narration,
      verification_url: this.verificationUrl(view.reference),
    };
  }

  async receiptPdf(id: string, principal: Principal): Promise<Buffer> {
    const receipt = await this.receipt(id, principal);
    const money = (value: bigint) => formatMoney(value, receipt.currency);
    const zone = receipt.time_zone;
    const who = (party: { wallet_number: string | null; name: string | null } | null) =>
      party
        ? [party.name, party.wallet_number && `wallet ${party.wallet_number}`].filter(Boolean).join(' · ') ||
          null
        : null;
    const lines: Array<{ label: string; value: string }> = [{ label: 'Type', value: receipt.type_label }];
    const from = who(receipt.from);
    if (from) lines.push({ label: 'From', value: from });
    if (receipt.biller) {
      lines.push({ label: 'Biller', value: `${receipt.biller.name} (${receipt.biller.code})` });
      if (receipt.biller.account_number)
        lines.push({ label: 'Account / meter number', value: receipt.biller.account_number });
      if (receipt.biller.account_name)
        lines.push({ label: 'Account name', value: receipt.biller.account_name });
    } else if (receipt.merchant) {
      lines.push({ label: 'Merchant', value: receipt.merchant.name ?? '-' });
      if (receipt.merchant.merchant_number)
        lines.push({ label: 'Merchant number', value: receipt.merchant.merchant_number });
    } else {
      const to = who(receipt.to);
      if (to) lines.push({ label: 'To', value: to });
    }
    lines.push(
      { label: 'Amount', value: money(receipt.amount) },
      { label: 'Fee', value: money(receipt.fee) },
      { label: 'Excise duty', value: money(receipt.tax) },
      { label: 'Total', value: money(receipt.total) },
    );
    if (receipt.narration) lines.push({ label: 'Narration', value: receipt.narration });
    const now = new Date();
    return renderReceiptPdf({
      institution: await this.#wallets.documents.institution(),
      title: 'Transaction receipt',
      reference: receipt.reference,
      status: receipt.status,
      occurredAt: `${formatLocalTime(new Date(receipt.occurred_at), zone)} (${zone})`,
      lines,
      verification: {
        url: receipt.verification_url,
        caption: `Scan to check receipt ${receipt.reference} with the issuer.`,
      },
      footer: `Generated ${formatLocalTime(now, zone)} (${zone})`,
      generatedAt: now,
    });
  }

  /**
   * Public: whether a receipt is genuine. Only someone holding the receipt has its code; a wrong code and an
   * unknown reference answer the same 404. Shows what the receipt shows about the payment, no names or wallets.
   */
  async verify(reference: string, code: string) {
    const normalised = reference.toUpperCase();
    if (!constantTimeEqualHex(this.verificationCode(normalised), code.toLowerCase()))
      throw transactionErrors.notFound();
    const row = await transactionByReference(this.#db, normalised);
    if (!row) throw transactionErrors.notFound();
    const occurred = row.completedAt ?? row.createdAt;
    return {
      valid: true as const,
      reference: row.reference,
      type: row.type,
      status: row.status,
      amount: row.amount,
      currency: row.currency,
      amount_display: formatMoney(row.amount, row.currency),
      occurred_at: occurred.toISOString(),
    };
  }

  /**
   * Statement lines of the payments themselves, as seen from one wallet: "Bill payment: Kenya Power, account
   * 37150012345", "Payment to Mama Mboga Stores", "Transfer to Wanjikũ Kamau", "Transfer from …".
   */
  async describe(ids: string[], walletId: string): Promise<Map<string, string>> {
    const rows = await transactionsById(this.#db, ids);
    const walletIds = [
      ...new Set(rows.flatMap((row) => [row.sourceWalletId, row.destinationWalletId])),
    ].filter((id): id is string => id !== null && id !== walletId);
    // One query per kind, whatever the number of lines (an export holds up to 10,000).
    const [walletRows, knownBillers, merchantNames] = await Promise.all([
      walletIds.length === 0 ? Promise.resolve([] as WalletRow[]) : this.#wallets.rows(walletIds),
      this.#billers(rows),
      this.#wallets.documents.merchantNames(rows.map((row) => row.merchantId)),
    ]);
    const names = await this.#wallets.documents.ownerNames(walletRows);
    const descriptions = new Map<string, string>();
    for (const row of rows) {
      const outgoing = row.sourceWalletId === walletId;
      const other = outgoing ? row.destinationWalletId : row.sourceWalletId;
      const otherName = other ? names.get(other) : undefined;
      const label = this.#types.label(row.type);
      let description: string;
      const biller = this.#biller(row, knownBillers);
      if (biller)
        description = `${label}: ${biller.name}${biller.account_number ? `, account ${biller.account_number}` : ''}`;
      else if (row.type === 'merchant')
        description = outgoing
          ? `Payment to ${(row.merchantId && merchantNames.get(row.merchantId)) ?? 'a merchant'}`
          : `Payment from ${otherName ?? 'a customer'}`;
      else if (row.type === 'p2p')
        description = outgoing
          ? `Transfer to ${otherName ?? 'another wallet'}`
          : `Transfer from ${otherName ?? 'another wallet'}`;
      else if (row.type === 'reversal' || row.type === 'refund') description = row.narration ?? label;
      else description = label;
      descriptions.set(row.id, description);
    }
    return descriptions;
  }
}
