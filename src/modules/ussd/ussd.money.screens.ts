/**
 * What the money journeys share: the refusals a quote or a payment can come back with, as screens (the same wording
 * in every money journey), the session's currency, and amounts as a phone shows them. A journey spreads
 * MONEY_PHRASES into its phrases and MONEY_VALUES into its values.
 */
import { formatMoney } from '../../platform/money.ts';
import { PIN_REFUSAL_PHRASES, PIN_REFUSAL_VALUES } from './ussd.journey.home.ts';
import type { Outcome, StateContext } from './ussd.menu.ts';
import type { MoneyCall, MoneyOutcome, Quote } from './ussd.money.ts';
import type { UssdServices } from './ussd.ports.ts';

type Ctx = StateContext<UssdServices>;

/** Longest values: amounts up to "KES 1,000,000.00", a masked name, an E.164 number, a reference. */
export const MONEY_VALUES = {
  amount: 16,
  fee: 16,
  threshold: 16,
  min: 16,
  max: 16,
  currency: 3,
  reference: 10,
  ...PIN_REFUSAL_VALUES,
} as const;

export const MONEY_PHRASES = {
  ...PIN_REFUSAL_PHRASES,
  // Held for compliance review: the customer learns that, never why (tipping-off).
  'money.held': {
    en: 'Your payment of {amount} is being reviewed. You will receive an SMS. Ref {reference}',
    fr: 'Votre paiement de {amount} est en cours de verification. Vous recevrez un SMS. Ref {reference}',
    sw: 'Malipo yako ya {amount} yanakaguliwa. Utapokea SMS. Kumb {reference}',
  },
  'money.use_app': {
    en: 'Payments of {threshold} or more need a one-time code: please use the app, or enter a smaller amount.',
    fr: 'Paiements de {threshold} ou plus: code unique requis, utilisez l app ou un montant plus petit.',
    sw: 'Malipo ya {threshold} au zaidi yanahitaji nambari ya siri ya mara moja: tumia app au weka kiasi kidogo.',
  },
  'money.insufficient': {
    en: 'Not enough balance for this amount and the fee.',
    fr: 'Solde insuffisant pour ce montant et les frais.',
    sw: 'Salio halitoshi kwa kiasi hiki na ada.',
  },
  'money.limit': {
    en: 'This amount is above your limit.',
    fr: 'Ce montant depasse votre plafond.',
    sw: 'Kiasi hiki kinazidi kikomo chako.',
  },
  'money.recipient_limit': {
    en: 'The recipient cannot receive this amount now.',
    fr: 'Le destinataire ne peut pas recevoir ce montant.',
    sw: 'Mpokeaji hawezi kupokea kiasi hiki sasa.',
  },
  'money.range': {
    en: 'Enter an amount from {min} to {max}.',
    fr: 'Saisissez un montant de {min} a {max}.',
    sw: 'Weka kiasi kati ya {min} na {max}.',
  },
  'money.unavailable': {
    en: 'This service is not available to your account on USSD. Please use the app.',
    fr: 'Ce service n est pas disponible pour votre compte sur USSD. Utilisez l app.',
    sw: 'Huduma hii haipatikani kwa akaunti yako kwenye USSD. Tafadhali tumia app.',
  },
  'money.no_wallet': {
    en: 'You have no wallet for this payment.',
    fr: 'Vous n avez pas de portefeuille pour ce paiement.',
    sw: 'Huna pochi ya malipo haya.',
  },
  'money.wallet_inactive': {
    en: 'Your wallet cannot pay now. Please contact us.',
    fr: 'Votre portefeuille ne peut pas payer. Contactez-nous.',
    sw: 'Pochi yako haiwezi kulipa sasa. Tafadhali wasiliana nasi.',
  },
  'money.payee_unavailable': {
    en: 'This payee cannot be paid now.',
    fr: 'Ce beneficiaire ne peut pas etre paye maintenant.',
    sw: 'Mlipwaji huyu hawezi kulipwa sasa.',
  },
  'money.self': {
    en: 'You cannot send money to your own wallet.',
    fr: 'Vous ne pouvez pas envoyer a votre propre portefeuille.',
    sw: 'Huwezi kutuma pesa kwa pochi yako mwenyewe.',
  },
  'money.failed': {
    en: 'The payment was not made. Please try again later.',
    fr: 'Le paiement n a pas ete fait. Reessayez plus tard.',
    sw: 'Malipo hayajafanyika. Tafadhali jaribu tena baadaye.',
  },
} as const;

/** A signed-in customer's id, or null when the session has none (the journey then ends). */
export function customerOf(ctx: Ctx): string | null {
  return ctx.signedIn && ctx.customerId ? ctx.customerId : null;
}

/** The currency amounts are typed in: the customer's main wallet's, kept in the session for the amount input. */
export async function sessionCurrency(ctx: Ctx): Promise<string | null> {
  const known = ctx.get('currency');
  if (known) return known;
  const customerId = customerOf(ctx);
  const currency = customerId ? await ctx.services.money.mainCurrency(customerId) : null;
  if (currency) ctx.set('currency', currency);
  return currency;
}

export function money(amountMinor: string | bigint | undefined, currency: string | undefined): string {
  if (amountMinor === undefined || !currency) return '';
  return formatMoney(BigInt(amountMinor), currency);
}

export function moneyCall(ctx: Ctx, customerId: string, action: string): MoneyCall {
  return {
    customerId,
    gateway: ctx.gateway,
    sessionId: ctx.sessionId,
    idempotencyKey: ctx.idempotencyKey(action),
  };
}

type Refused = Extract<Quote | MoneyOutcome, { kind: 'refused' }>;

function detail(refused: Refused, name: string): string {
  const value = refused.details[name];
  return typeof value === 'string' || typeof value === 'number' ? String(value) : '';
}

/**
 * The screen for a refusal. `stage` is where it came: at the amount (`quote`: the customer can type another amount)
 * or at the PIN (`pay`: a wrong PIN may be typed again; anything else ends the session, as the payment was refused
 * for good and recorded so).
 */
export function refusalScreen(refused: Refused, stage: 'quote' | 'pay'): Outcome {
  const correctable = (phrase: string, values?: Record<string, string>): Outcome =>
    stage === 'quote' ? { retry: { phrase, values } } : { end: { phrase, values } };
  switch (refused.code) {
    case 'INVALID_PIN': {
      const tries = detail(refused, 'attempts_left');
      return tries
        ? { retry: { phrase: 'home.wrong_pin_left', values: { tries } } }
        : { retry: { phrase: 'home.wrong_pin' } };
    }
    case 'PIN_LOCKED':
      return { end: { phrase: 'home.locked' } };
    case 'PIN_NOT_SET':
      return { end: { phrase: 'home.not_set' } };
    case 'USSD_AMOUNT_NEEDS_APP':
      return correctable('money.use_app', { threshold: detail(refused, 'threshold') });
    case 'INSUFFICIENT_BALANCE':
      return correctable('money.insufficient');
    case 'LIMIT_EXCEEDED':
      return correctable('money.limit');
    case 'RECIPIENT_LIMIT_EXCEEDED':
    case 'BALANCE_CAP_EXCEEDED':
      return correctable('money.recipient_limit');
    case 'AMOUNT_OUT_OF_RANGE':
      return correctable('money.range', { min: detail(refused, 'min'), max: detail(refused, 'max') });
    case 'FEATURE_NOT_ALLOWED':
    case 'CHANNEL_NOT_ALLOWED':
    case 'FEATURE_DISABLED':
      return { end: { phrase: 'money.unavailable' } };
    case 'NOT_FOUND':
    case 'CURRENCY_MISMATCH':
      return { end: { phrase: 'money.no_wallet' } };
    case 'SAME_WALLET':
      return { end: { phrase: 'money.self' } };
    case 'WALLET_NOT_ACTIVE':
      return { end: { phrase: 'money.wallet_inactive' } };
    case 'RECIPIENT_UNAVAILABLE':
    case 'RECIPIENT_NOT_FOUND':
    case 'MERCHANT_UNAVAILABLE':
    case 'USSD_MERCHANT_NOT_FOUND':
    case 'BILLER_UNAVAILABLE':
    case 'BILLER_NOT_FOUND':
      return { end: { phrase: 'money.payee_unavailable' } };
    default:
      return { end: { phrase: 'money.failed' } };
  }
}
