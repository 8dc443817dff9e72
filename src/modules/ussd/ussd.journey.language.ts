/** Language: the customer picks the language of their menus; it is kept for later sessions and applies at once. */
import { defineJourney, isLanguage, LANGUAGES, type Language } from './ussd.menu.ts';
import type { UssdServices } from './ussd.ports.ts';

/** Each language by its own name, so a customer finds theirs whatever the menus speak now. */
const NAMES: Record<Language, string> = { en: 'English', fr: 'Francais', sw: 'Kiswahili' };

export const languageJourney = defineJourney<UssdServices>({
  id: 'language',
  start: 'pick',
  values: {},
  phrases: {
    pick: { en: 'Choose your language', fr: 'Choisissez votre langue', sw: 'Chagua lugha yako' },
  },
  states: {
    pick: {
      screen: () => ({
        phrase: 'pick',
        options: LANGUAGES.map((language) => ({ label: { text: NAMES[language] }, value: language })),
      }),
      input: { type: 'choice' },
      async next(language, ctx) {
        if (!ctx.signedIn || !ctx.customerId) return { journey: 'home' };
        if (!isLanguage(language)) return { retry: { phrase: 'common.invalid_choice' } };
        await ctx.services.account.setLanguage(ctx.customerId, language);
        ctx.setLanguage(language);
        return { journey: 'home', state: 'menu' };
      },
    },
  },
});
