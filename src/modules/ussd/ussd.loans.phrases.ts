/**
 * The loans journey's words in English, French and Swahili (ASCII only: feature phones and gateways mangle the
 * rest), the placeholders they use with the longest value each may take, and how a term reads in each language.
 */
import { PIN_REFUSAL_PHRASES, PIN_REFUSAL_VALUES } from './ussd.journey.home.ts';
import type { Language, Phrase } from './ussd.menu.ts';

/** Money as `formatMoney` writes it ("KES 999,999,999.99"), loan and application numbers ("LN-1234567890"). */
const MONEY = 18;

export const LOANS_VALUES = {
  product: 24,
  amount: MONEY,
  min: MONEY,
  max: MONEY,
  instalment: MONEY,
  total: MONEY,
  fee: MONEY,
  outstanding: MONEY,
  due: MONEY,
  payoff: MONEY,
  /** A term with its unit ("vipindi 999 vya wiki 2"). */
  term: 22,
  /** A term's unit alone, plural ("vipindi vya wiki 2"). */
  unit: 18,
  min_term: 3,
  max_term: 3,
  loan: 14,
  application: 14,
  /** DD/MM/YYYY. */
  date: 10,
  ...PIN_REFUSAL_VALUES,
} as const;

export type Frequency = 'daily' | 'weekly' | 'biweekly' | 'monthly';

const UNITS: Record<Language, Record<Frequency, [one: string, many: string]>> = {
  en: {
    daily: ['day', 'days'],
    weekly: ['week', 'weeks'],
    biweekly: ['fortnight', 'fortnights'],
    monthly: ['month', 'months'],
  },
  fr: {
    daily: ['jour', 'jours'],
    weekly: ['semaine', 'semaines'],
    biweekly: ['quinzaine', 'quinzaines'],
    monthly: ['mois', 'mois'],
  },
  sw: {
    daily: ['siku', 'siku'],
    weekly: ['wiki', 'wiki'],
    biweekly: ['kipindi cha wiki 2', 'vipindi vya wiki 2'],
    monthly: ['mwezi', 'miezi'],
  },
};

/** "3 months", "3 mois", "miezi 3" ("vipindi 3 vya wiki 2"). */
export function termText(language: Language, frequency: Frequency, term: number): string {
  const [one, many] = UNITS[language][frequency];
  const unit = term === 1 ? one : many;
  if (language !== 'sw') return `${term} ${unit}`;
  const [noun, ...rest] = unit.split(' ');
  return [noun, String(term), ...rest].join(' ');
}

export function unitText(language: Language, frequency: Frequency): string {
  return UNITS[language][frequency][1];
}

const p = (en: string, fr: string, sw: string): Phrase => ({ en, fr, sw });

export const LOANS_PHRASES: Record<string, Phrase> = {
  menu: p('Loans', 'Credits', 'Mikopo'),
  'menu.offer': p('Check offer', 'Voir mon offre', 'Angalia ofa'),
  'menu.apply': p('Apply', 'Demander un credit', 'Omba mkopo'),
  'menu.repay': p('Repay', 'Rembourser', 'Lipa mkopo'),
  'menu.balance': p('Balance & next due', 'Solde et echeance', 'Salio na malipo yajayo'),

  offers: p(
    'You qualify for (choose to apply):',
    'Vos offres (choisissez pour demander):',
    'Ofa zako (chagua kuomba):',
  ),
  product: p('Choose a loan:', 'Choisissez un credit:', 'Chagua mkopo:'),
  offer_line: p('{product} up to {max}', '{product} jusqu a {max}', '{product} hadi {max}'),
  amount: p(
    '{product}\nEnter amount from {min} to {max}',
    '{product}\nMontant de {min} a {max}',
    '{product}\nWeka kiasi kati ya {min} na {max}',
  ),
  amount_range: p(
    'Amount must be from {min} to {max}.',
    'Le montant doit etre entre {min} et {max}.',
    'Kiasi lazima kiwe kati ya {min} na {max}.',
  ),
  term_choice: p('Repay over:', 'Rembourser en:', 'Lipa kwa muda wa:'),
  term_option: p('{term}', '{term}', '{term}'),
  term_number: p(
    'Number of {unit} to repay over ({min_term}-{max_term})',
    'Nombre de {unit} pour rembourser ({min_term}-{max_term})',
    'Idadi ya {unit} za kulipa ({min_term}-{max_term})',
  ),
  term_range: p(
    'Choose from {min_term} to {max_term}.',
    'Choisissez entre {min_term} et {max_term}.',
    'Chagua kati ya {min_term} na {max_term}.',
  ),
  summary: p(
    'Loan {amount} x {term}\nInstalment {instalment}\nTotal {total}\nFee {fee}',
    'Credit {amount} sur {term}\nEcheance {instalment}\nA rembourser {total}\nFrais {fee}',
    'Mkopo {amount} kwa {term}\nRejesho {instalment}\nJumla {total}\nAda {fee}',
  ),
  accept: p('Accept', 'Accepter', 'Kubali'),
  apply_pin: p(
    'Enter PIN to apply for {amount}',
    'Entrez votre PIN pour demander {amount}',
    'Weka PIN kuomba {amount}',
  ),
  approved: p(
    'Approved! Loan {loan} of {amount}. We will send you an SMS when the money is in your wallet.',
    'Accorde! Credit {loan} de {amount}. Un SMS vous dira quand l argent sera sur votre portefeuille.',
    'Umeidhinishwa! Mkopo {loan} wa {amount}. Utapokea SMS pesa zikiingia kwenye pochi yako.',
  ),
  disbursed: p(
    'Approved! {amount} from loan {loan} is in your wallet.',
    'Accorde! {amount} du credit {loan} est sur votre portefeuille.',
    'Umeidhinishwa! {amount} za mkopo {loan} ziko kwenye pochi yako.',
  ),
  declined: p(
    'Sorry, application {application} was declined. We will send you an SMS with the reasons.',
    'Desole, la demande {application} est refusee. Vous recevrez un SMS avec les raisons.',
    'Samahani, ombi {application} limekataliwa. Utapokea SMS yenye sababu.',
  ),
  referred: p(
    'Application {application} is being reviewed. We will send you an SMS with the decision.',
    'La demande {application} est en cours d examen. Vous recevrez un SMS avec la decision.',
    'Ombi {application} linakaguliwa. Utapokea SMS yenye uamuzi.',
  ),
  out_of_range: p(
    'The amount or term is outside this loan s limits. Please start again.',
    'Le montant ou la duree sort des limites de ce credit. Recommencez.',
    'Kiasi au muda uko nje ya mipaka ya mkopo huu. Anza upya.',
  ),
  unavailable: p(
    'This loan is no longer offered.',
    'Ce credit n est plus propose.',
    'Mkopo huu haupatikani tena.',
  ),

  'refusal.CUSTOMER_BLOCKED': p(
    'Your account cannot take a loan now. Please contact us.',
    'Votre compte ne peut pas obtenir de credit. Contactez-nous.',
    'Akaunti yako haiwezi kupata mkopo sasa. Wasiliana nasi.',
  ),
  'refusal.TOO_MANY_ACTIVE_LOANS': p(
    'You already have the most loans allowed. Repay one to borrow again.',
    'Vous avez deja le maximum de credits. Remboursez-en un pour emprunter.',
    'Tayari una idadi ya juu ya mikopo. Lipa mmoja ili ukope tena.',
  ),
  'refusal.KYC_TIER_TOO_LOW': p(
    'Verify your identity in the app or with an agent to get a loan offer.',
    'Verifiez votre identite dans l app ou chez un agent pour obtenir une offre.',
    'Thibitisha utambulisho wako kwenye app au kwa wakala ili upate ofa.',
  ),
  'refusal.NO_WALLET': p(
    'You need an open wallet to borrow.',
    'Il vous faut un portefeuille ouvert pour emprunter.',
    'Unahitaji pochi iliyo wazi ili kukopa.',
  ),
  'refusal.WALLET_NOT_ACTIVE': p(
    'Your wallet is not active, so you cannot borrow now. Please contact us.',
    'Votre portefeuille n est pas actif: pas de credit pour le moment. Contactez-nous.',
    'Pochi yako haiko hai, huwezi kukopa sasa. Wasiliana nasi.',
  ),
  'refusal.WALLET_TENURE_TOO_SHORT': p(
    'Your wallet is too new for a loan. Keep using it and try again later.',
    'Votre portefeuille est trop recent. Continuez a l utiliser et reessayez plus tard.',
    'Pochi yako ni mpya mno kwa mkopo. Endelea kuitumia na ujaribu baadaye.',
  ),
  'refusal.NO_PRODUCTS': p(
    'No loan offer is available now.',
    'Aucune offre de credit pour le moment.',
    'Hakuna ofa ya mkopo kwa sasa.',
  ),

  which_loan: p('Which loan?', 'Quel credit?', 'Mkopo upi?'),
  loan_line: p('{loan} {outstanding}', '{loan} {outstanding}', '{loan} {outstanding}'),
  no_loans: p(
    'You have no loan to repay.',
    'Vous n avez aucun credit a rembourser.',
    'Huna mkopo wa kulipa.',
  ),
  no_active: p('You have no active loan.', 'Vous n avez aucun credit en cours.', 'Huna mkopo unaoendelea.'),
  repay_amount: p(
    'Loan {loan}, balance {outstanding}. Pay:',
    'Credit {loan}, solde {outstanding}. Payer:',
    'Mkopo {loan}, salio {outstanding}. Lipa:',
  ),
  pay_due: p('Next due {due}', 'Echeance {due}', 'Malipo yajayo {due}'),
  pay_full: p('Full payoff {payoff}', 'Solde total {payoff}', 'Lipa yote {payoff}'),
  pay_other: p('Other amount', 'Autre montant', 'Kiasi kingine'),
  repay_other: p('Enter amount to pay', 'Entrez le montant a payer', 'Weka kiasi cha kulipa'),
  use_app: p(
    'This amount needs a one-time code: please pay it in the app.',
    'Ce montant exige un code a usage unique: payez-le dans l app.',
    'Kiasi hiki kinahitaji nambari ya mara moja: tafadhali lipa kwenye app.',
  ),
  repay_pin: p(
    'Pay {amount} to loan {loan} from your wallet. Enter PIN',
    'Payer {amount} au credit {loan} depuis votre portefeuille. Entrez votre PIN',
    'Lipa {amount} kwa mkopo {loan} kutoka pochi yako. Weka PIN',
  ),
  paid: p(
    'Paid {amount} to loan {loan}. Balance {outstanding}.',
    '{amount} paye au credit {loan}. Solde {outstanding}.',
    'Umelipa {amount} kwa mkopo {loan}. Salio {outstanding}.',
  ),
  closed: p(
    'Paid {amount}. Loan {loan} is fully repaid. Thank you!',
    '{amount} paye. Le credit {loan} est rembourse. Merci!',
    'Umelipa {amount}. Mkopo {loan} umelipwa wote. Asante!',
  ),
  insufficient: p(
    'Your wallet balance is too low for this payment.',
    'Le solde de votre portefeuille est insuffisant.',
    'Salio la pochi yako halitoshi kwa malipo haya.',
  ),
  nothing_due: p(
    'Nothing is due on this loan now. Choose Full payoff to repay early.',
    'Rien n est du sur ce credit. Choisissez Solde total pour rembourser en avance.',
    'Hakuna kinachodaiwa sasa. Chagua Lipa yote ili kulipa mapema.',
  ),
  not_repayable: p(
    'This loan takes no payment now.',
    'Ce credit n accepte pas de paiement.',
    'Mkopo huu haupokei malipo sasa.',
  ),
  wallet_unavailable: p(
    'Your wallet cannot be used now. Please contact us.',
    'Votre portefeuille est indisponible. Contactez-nous.',
    'Pochi yako haiwezi kutumika sasa. Wasiliana nasi.',
  ),

  balance_due: p(
    'Loan {loan}\nBalance {outstanding}\nNext due {due} on {date}',
    'Credit {loan}\nSolde {outstanding}\nEcheance {due} le {date}',
    'Mkopo {loan}\nSalio {outstanding}\nMalipo yajayo {due} tarehe {date}',
  ),
  balance_overdue: p(
    'Loan {loan}\nBalance {outstanding}\nOverdue {due} since {date}. Please pay now.',
    'Credit {loan}\nSolde {outstanding}\nImpaye {due} depuis le {date}. Payez maintenant.',
    'Mkopo {loan}\nSalio {outstanding}\nDeni {due} tangu {date}. Tafadhali lipa sasa.',
  ),
  balance_only: p(
    'Loan {loan}\nBalance {outstanding}',
    'Credit {loan}\nSolde {outstanding}',
    'Mkopo {loan}\nSalio {outstanding}',
  ),
  balance_pending: p(
    'Loan {loan} of {amount} is approved and waits to be paid out.',
    'Le credit {loan} de {amount} est accorde et attend son versement.',
    'Mkopo {loan} wa {amount} umeidhinishwa na unasubiri kutolewa.',
  ),
  ...PIN_REFUSAL_PHRASES,
};
