/**
 * Stop USSD: the customer turns the channel off for their number (audited like a switch from the app). Dialling in
 * afterwards gets only the engine's short notice; the app or staff turn it back on.
 */
import { ussdRequestContext } from './ussd.claims.ts';
import { defineJourney } from './ussd.menu.ts';
import type { UssdServices } from './ussd.ports.ts';

export const optoutJourney = defineJourney<UssdServices>({
  id: 'optout',
  start: 'confirm',
  values: {},
  phrases: {
    confirm: {
      en: 'Stop USSD banking for this number? You will not be able to use it until you turn it back on.',
      fr: 'Arreter le service USSD pour ce numero? Vous ne pourrez plus l utiliser avant de le reactiver.',
      sw: 'Sitisha huduma ya USSD kwa namba hii? Hutaweza kuitumia hadi uiwashe tena.',
    },
    yes: { en: 'Yes, stop it', fr: 'Oui, arreter', sw: 'Ndiyo, sitisha' },
    no: { en: 'No', fr: 'Non', sw: 'Hapana' },
    stopped: {
      en: 'USSD banking is now off for this number. To turn it back on, use the app or ask our staff.',
      fr: 'Le service USSD est desactive pour ce numero. Pour le reactiver, utilisez l app ou demandez a notre personnel.',
      sw: 'Huduma ya USSD imezimwa kwa namba hii. Kuiwasha tena, tumia app au omba wafanyakazi wetu.',
    },
  },
  states: {
    confirm: {
      screen: () => ({
        phrase: 'confirm',
        options: [
          { label: { phrase: 'yes' }, value: 'yes' },
          { label: { phrase: 'no' }, value: 'no' },
        ],
      }),
      input: { type: 'choice' },
      async next(answer, ctx) {
        const customerId = ctx.signedIn ? ctx.customerId : null;
        if (!customerId) return { journey: 'home' };
        if (answer !== 'yes') return { journey: 'home', state: 'menu' };
        const { actor, ...request } = ussdRequestContext(customerId, ctx);
        await ctx.services.account.setEnabled(
          customerId,
          false,
          actor,
          'Stopped by the customer on USSD',
          request,
        );
        return { end: { phrase: 'stopped' } };
      },
    },
  },
});
