/**
 * The customer hears of each decision on their application: the module's own consumer takes
 * `loans.application_decided` (whoever decided: the pipeline, a loan officer, an investigation) and queues a message
 * through the notifications module, keyed by the application and outcome so a redelivery (or the accounts area's own
 * message for a loan officer's decision) sends nothing twice. Flagged and referred read
 * the same to the customer: a fraud review is never announced as one.
 */
import type { Executor } from '../../platform/db.ts';
import { on, type Subscription } from '../../platform/events.ts';
import { formatMoney } from '../../platform/money.ts';
import type { NotifyRequest } from '../notifications/index.ts';
import { loadApplication } from './loans.applications.repository.ts';
import { loanApplicationDecided } from './loans.events.ts';

/** The notifications module's queue, in the consumer's transaction. */
export interface DecisionNotifier {
  queue(tx: Executor, request: NotifyRequest): Promise<unknown>;
}

interface Texts {
  title: Record<string, string>;
  message: Record<string, string>;
}

const IN_REVIEW: Texts = {
  title: {
    en: 'Loan application in review',
    fr: 'Demande de prêt à l’étude',
    sw: 'Ombi la mkopo linakaguliwa',
  },
  message: {
    en: 'Your loan application {number} for {amount} is being reviewed. We will tell you the decision.',
    fr: 'Votre demande de prêt {number} de {amount} est à l’étude. Nous vous dirons la décision.',
    sw: 'Ombi lako la mkopo {number} la {amount} linakaguliwa. Tutakujulisha uamuzi.',
  },
};

const MESSAGES: Record<string, Texts> = {
  approved: {
    title: { en: 'Loan approved', fr: 'Prêt approuvé', sw: 'Mkopo umeidhinishwa' },
    message: {
      en: 'Your loan application {number} for {amount} is approved.',
      fr: 'Votre demande de prêt {number} de {amount} est approuvée.',
      sw: 'Ombi lako la mkopo {number} la {amount} limeidhinishwa.',
    },
  },
  declined: {
    title: {
      en: 'Loan application declined',
      fr: 'Demande de prêt refusée',
      sw: 'Ombi la mkopo limekataliwa',
    },
    message: {
      en: 'Your loan application {number} for {amount} was declined. The reasons are in the app.',
      fr: 'Votre demande de prêt {number} de {amount} a été refusée. Les motifs sont dans l’application.',
      sw: 'Ombi lako la mkopo {number} la {amount} limekataliwa. Sababu zipo kwenye programu.',
    },
  },
  referred: IN_REVIEW,
  flagged: IN_REVIEW,
};

export function applicationDecisionSubscriptions(notifier: DecisionNotifier): Subscription[] {
  return [
    on(loanApplicationDecided, async (tx, event) => {
      const p = event.payload;
      const texts = MESSAGES[p.status];
      const loaded = texts ? await loadApplication(tx, p.application_id) : undefined;
      if (!texts || !loaded) return;
      const amount = formatMoney(loaded.application.amountMinor, loaded.application.currency);
      const fill = (text: string) => text.replace('{number}', p.number).replace('{amount}', amount);
      await notifier.queue(tx, {
        recipient: { type: 'customer', id: p.customer_id },
        template: 'notification.message',
        variables: {},
        localized: {
          title: texts.title,
          message: Object.fromEntries(
            Object.entries(texts.message).map(([lang, text]) => [lang, fill(text)]),
          ),
        },
        data: { kind: 'loan_application', application_id: p.application_id },
        // The key the accounts area queues its own decision messages with (a loan officer's decision): whichever
        // comes first is sent, the other is dropped; flagged and referred share one (the customer hears "in review"
        // once).
        dedupeKey: `loan-application:${p.application_id}:${p.status === 'flagged' ? 'referred' : p.status}`,
        sourceEventId: event.id,
        createdBy: { type: 'system', id: null },
      });
    }),
  ];
}
