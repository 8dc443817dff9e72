/**
 * What the loans journey shows for the port's answers: the product and loan lists, each outcome's end screen, a loan's
 * balance, and a PIN refusal thrown by the port read as the home journey's PIN check.
 */
import { AppError } from '../../platform/errors.ts';
import { formatMoney } from '../../platform/money.ts';
import type { PinCheck } from './ussd.account.ts';
import type { ApplyOutcome, RepayOutcome, UssdLoanOffer, UssdLoanSummary } from './ussd.loans.ts';
import type { Screen } from './ussd.menu.ts';

export const money = (minor: bigint | string, currency: string) => formatMoney(BigInt(minor), currency);
/** DD/MM/YYYY from an ISO date. */
const dateText = (iso: string) => iso.split('-').reverse().join('/');

/** A wrong, locked or missing PIN thrown by the port, as the home journey's PIN check reads it. */
export function pinCheckOf(error: unknown): PinCheck | null {
  if (!(error instanceof AppError)) return null;
  if (error.errorCode === 'INVALID_PIN') {
    const left = (error.details as { attempts_left?: unknown } | null)?.attempts_left;
    return { result: 'wrong', triesLeft: typeof left === 'number' ? left : null };
  }
  if (error.errorCode === 'PIN_LOCKED') return { result: 'locked' };
  if (error.errorCode === 'PIN_NOT_SET') return { result: 'not_set' };
  return null;
}

export function productOptions(offers: UssdLoanOffer[]): Screen['options'] {
  return offers.map((offer) => ({
    label: {
      phrase: 'offer_line',
      values: { product: offer.name, max: money(offer.maxAmountMinor, offer.currency) },
    },
    value: offer.productId,
  }));
}

export function applyScreen(outcome: ApplyOutcome): Screen {
  switch (outcome.kind) {
    case 'approved': {
      const values = { loan: outcome.loanNumber, amount: money(outcome.amountMinor, outcome.currency) };
      return { phrase: outcome.disbursed ? 'disbursed' : 'approved', values };
    }
    case 'declined':
      return { phrase: 'declined', values: { application: outcome.applicationNumber } };
    case 'referred':
      return { phrase: 'referred', values: { application: outcome.applicationNumber } };
    case 'refused':
      if (outcome.code === 'OUT_OF_RANGE') return { phrase: 'out_of_range' };
      if (outcome.code === 'PRODUCT_UNAVAILABLE') return { phrase: 'unavailable' };
      return { phrase: `refusal.${refusalPhrase(outcome.reasons)}` };
  }
}

const REFUSALS = [
  'CUSTOMER_BLOCKED',
  'TOO_MANY_ACTIVE_LOANS',
  'KYC_TIER_TOO_LOW',
  'NO_WALLET',
  'WALLET_NOT_ACTIVE',
  'WALLET_TENURE_TOO_SHORT',
] as const;

function refusalPhrase(reasons: readonly string[]): string {
  return REFUSALS.find((code) => reasons.includes(code)) ?? 'NO_PRODUCTS';
}

export function repayScreen(outcome: RepayOutcome): Screen {
  if (outcome.kind === 'paid') {
    const values = {
      amount: money(outcome.amountMinor, outcome.currency),
      loan: outcome.loanNumber,
      outstanding: money(outcome.outstandingMinor, outcome.currency),
    };
    return { phrase: outcome.closed ? 'closed' : 'paid', values };
  }
  const phrase = {
    INSUFFICIENT_FUNDS: 'insufficient',
    NOTHING_DUE: 'nothing_due',
    NOT_REPAYABLE: 'not_repayable',
    WALLET_UNAVAILABLE: 'wallet_unavailable',
    USE_APP: 'use_app',
  }[outcome.code];
  return { phrase };
}

export function balanceScreen(loan: UssdLoanSummary): Screen {
  const values = {
    loan: loan.number,
    outstanding: money(loan.outstandingMinor, loan.currency),
    amount: money(loan.principalMinor, loan.currency),
  };
  if (loan.status === 'approved') return { phrase: 'balance_pending', values };
  if (loan.nextDueDate === null || loan.nextDueMinor === null) return { phrase: 'balance_only', values };
  const due = { ...values, due: money(loan.nextDueMinor, loan.currency), date: dateText(loan.nextDueDate) };
  return { phrase: loan.overdue ? 'balance_overdue' : 'balance_due', values: due };
}

export function loanOptions(loans: UssdLoanSummary[]): Screen['options'] {
  return loans.map((loan) => ({
    label: {
      phrase: 'loan_line',
      values: { loan: loan.number, outstanding: money(loan.outstandingMinor, loan.currency) },
    },
    value: loan.loanId,
  }));
}
