/**
 * Change PIN: the current PIN (checked with the app's counters), the new one (the app's policy), the new one again.
 * A screen takes one PIN and none is kept, so the current PIN is checked on its own screen and only the fact that it
 * passed (with a keyed digest, to refuse the same PIN as the new one) goes on; the new PIN's first entry is kept
 * only as a keyed digest to compare the second with.
 */
import type { PinProblem } from './ussd.account.ts';
import { ussdRequestContext } from './ussd.claims.ts';
import { PIN_REFUSAL_PHRASES, PIN_REFUSAL_VALUES, pinRefusal } from './ussd.journey.home.ts';
import { defineJourney, type Outcome, type StateContext } from './ussd.menu.ts';
import type { UssdServices } from './ussd.ports.ts';

const PROBLEM_PHRASE: Record<PinProblem, string> = {
  format: 'common.invalid_pin',
  sequence: 'weak',
  repeat: 'weak',
  common: 'weak',
  year: 'weak',
};

function signedInCustomer(ctx: StateContext<UssdServices>): string | null {
  return ctx.signedIn ? ctx.customerId : null;
}

const HOME: Outcome = { journey: 'home' };

export const pinChangeJourney = defineJourney<UssdServices>({
  id: 'pin_change',
  start: 'current',
  values: { ...PIN_REFUSAL_VALUES },
  phrases: {
    current: {
      en: 'Enter your current PIN',
      fr: 'Entrez votre PIN actuel',
      sw: 'Weka PIN yako ya sasa',
    },
    new: {
      en: 'Enter your new PIN (4 to 6 digits)',
      fr: 'Entrez votre nouveau PIN (4 a 6 chiffres)',
      sw: 'Weka PIN mpya (tarakimu 4 hadi 6)',
    },
    again: {
      en: 'Enter your new PIN again',
      fr: 'Entrez encore le nouveau PIN',
      sw: 'Weka PIN mpya tena',
    },
    weak: {
      en: 'This PIN is too easy to guess. Choose another.',
      fr: 'Ce PIN est trop facile a deviner. Choisissez-en un autre.',
      sw: 'PIN hii ni rahisi kukisiwa. Chagua nyingine.',
    },
    same: {
      en: 'The new PIN must differ from the current one.',
      fr: 'Le nouveau PIN doit etre different de l actuel.',
      sw: 'PIN mpya lazima iwe tofauti na ya sasa.',
    },
    mismatch: {
      en: 'The PINs do not match. Enter the new PIN again or 0 to retype it.',
      fr: 'Les PIN ne correspondent pas. Entrez encore le nouveau PIN ou 0 pour le ressaisir.',
      sw: 'PIN hazilingani. Weka PIN mpya tena au 0 kuiandika upya.',
    },
    changed: {
      en: 'Your PIN has been changed. Use it in the app and on USSD.',
      fr: 'Votre PIN a ete change. Utilisez-le dans l app et sur USSD.',
      sw: 'PIN yako imebadilishwa. Itumie kwenye app na USSD.',
    },
    ...PIN_REFUSAL_PHRASES,
  },
  states: {
    current: {
      screen: () => ({ phrase: 'current' }),
      input: { type: 'pin' },
      async next(pin, ctx) {
        const customerId = signedInCustomer(ctx);
        if (!customerId) return HOME;
        const refusal = pinRefusal(await ctx.services.account.verifyPin(customerId, pin));
        if (refusal) return refusal;
        ctx.set('current', ctx.pinDigest(pin));
        return { go: 'new' };
      },
    },
    new: {
      screen: () => ({ phrase: 'new' }),
      input: { type: 'pin' },
      next(pin, ctx) {
        const current = ctx.get('current');
        if (!signedInCustomer(ctx) || !current) return HOME;
        const problem = ctx.services.account.pinProblem(pin);
        if (problem) return { retry: { phrase: PROBLEM_PHRASE[problem] } };
        const digest = ctx.pinDigest(pin);
        if (digest === current) return { retry: { phrase: 'same' } };
        ctx.set('new', digest);
        return { go: 'again' };
      },
    },
    again: {
      screen: () => ({ phrase: 'again' }),
      input: { type: 'pin' },
      async next(pin, ctx) {
        const customerId = signedInCustomer(ctx);
        const wanted = ctx.get('new');
        if (!customerId || !ctx.get('current') || !wanted) return HOME;
        if (ctx.pinDigest(pin) !== wanted) return { retry: { phrase: 'mismatch' } };
        const result = await ctx.services.account.changePin(
          customerId,
          pin,
          ussdRequestContext(customerId, ctx),
        );
        if (result !== 'ok') return { retry: { phrase: PROBLEM_PHRASE[result] } };
        // Spent: a replayed or back-stepped screen must prove the current PIN again.
        ctx.set('current', '');
        ctx.set('new', '');
        return { end: { phrase: 'changed' } };
      },
    },
  },
});
