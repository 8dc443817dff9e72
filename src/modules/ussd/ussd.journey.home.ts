/**
 * Home: a known customer's PIN sign-in (`pin`, where the engine starts them) and the main menu (`menu`, where `00`
 * leads once signed in). The PIN is checked by the account port with the app's counters, so five wrong PINs here
 * lock the app's sign-in too.
 */
import type { PinCheck } from './ussd.account.ts';
import { defineJourney, type Outcome, type Screen } from './ussd.menu.ts';
import type { UssdServices } from './ussd.ports.ts';

/** The main menu's entries, in the order shown, each leading to its journey. */
const MENU = [
  ['balance', 'balance'],
  ['send', 'send'],
  ['bill', 'bill'],
  ['merchant', 'merchant'],
  ['airtime', 'airtime'],
  ['loans', 'loans'],
  ['statement', 'statement'],
  ['pin_change', 'pin_change'],
  ['language', 'language'],
  ['optout', 'optout'],
  ['agent', 'agent'],
] as const;

export const MENU_JOURNEYS: readonly string[] = MENU.map(([, journey]) => journey);

/**
 * The screen for a PIN try that did not pass, shared with the PIN change (same wording for the same refusal): null
 * when it passed.
 */
export function pinRefusal(check: PinCheck): Outcome | null {
  switch (check.result) {
    case 'ok':
      return null;
    case 'wrong':
      return check.triesLeft === null
        ? { retry: { phrase: 'home.wrong_pin' } }
        : { retry: { phrase: 'home.wrong_pin_left', values: { tries: check.triesLeft } } };
    case 'locked':
      return { end: { phrase: 'home.locked' } };
    case 'not_set':
      return { end: { phrase: 'home.not_set' } };
    case 'inactive':
      return { end: { phrase: 'common.inactive' } };
  }
}

/** Phrases `pinRefusal` uses: a journey calling it spreads these into its own `phrases` (prefixed `home.`). */
export const PIN_REFUSAL_PHRASES = {
  'home.wrong_pin': {
    en: 'Wrong PIN.',
    fr: 'PIN incorrect.',
    sw: 'PIN si sahihi.',
  },
  'home.wrong_pin_left': {
    en: 'Wrong PIN. Tries left: {tries}.',
    fr: 'PIN incorrect. Essais restants: {tries}.',
    sw: 'PIN si sahihi. Majaribio yaliyobaki: {tries}.',
  },
  'home.locked': {
    en: 'Your PIN is locked. Reset it in the app or visit an agent.',
    fr: 'Votre PIN est bloque. Reinitialisez-le dans l app ou voyez un agent.',
    sw: 'PIN yako imefungwa. Iweke upya kwenye app au tembelea wakala.',
  },
  'home.not_set': {
    en: 'You have no PIN yet. Set one in the app or visit an agent.',
    fr: 'Vous n avez pas encore de PIN. Creez-le dans l app ou voyez un agent.',
    sw: 'Bado huna PIN. Iweke kwenye app au tembelea wakala.',
  },
} as const;

/** Longest values of the placeholders `PIN_REFUSAL_PHRASES` use. */
export const PIN_REFUSAL_VALUES = { tries: 2 } as const;

const menuScreen: Screen = {
  phrase: 'menu',
  options: MENU.map(([phrase, journey]) => ({ label: { phrase: `menu.${phrase}` }, value: journey })),
};

export const homeJourney = defineJourney<UssdServices>({
  id: 'home',
  start: 'pin',
  values: { name: 24, ...PIN_REFUSAL_VALUES },
  phrases: {
    welcome: {
      en: 'Welcome {name}. Enter your PIN',
      fr: 'Bienvenue {name}. Entrez votre PIN',
      sw: 'Karibu {name}. Weka PIN yako',
    },
    menu: { en: 'Main menu', fr: 'Menu principal', sw: 'Menyu kuu' },
    'menu.balance': { en: 'Balance', fr: 'Solde', sw: 'Salio' },
    'menu.send': { en: 'Send money', fr: 'Envoyer de l argent', sw: 'Tuma pesa' },
    'menu.bill': { en: 'Pay bill', fr: 'Payer une facture', sw: 'Lipa bili' },
    'menu.merchant': { en: 'Pay merchant', fr: 'Payer un marchand', sw: 'Lipa mfanyabiashara' },
    'menu.airtime': { en: 'Buy airtime', fr: 'Acheter du credit', sw: 'Nunua muda wa maongezi' },
    'menu.loans': { en: 'Loans', fr: 'Credits', sw: 'Mikopo' },
    'menu.statement': { en: 'Mini-statement', fr: 'Mini-releve', sw: 'Taarifa fupi' },
    'menu.pin_change': { en: 'Change PIN', fr: 'Changer le PIN', sw: 'Badilisha PIN' },
    'menu.language': { en: 'Language', fr: 'Langue', sw: 'Lugha' },
    'menu.optout': { en: 'Stop USSD', fr: 'Arreter USSD', sw: 'Sitisha USSD' },
    'menu.agent': { en: 'Agent', fr: 'Agent', sw: 'Wakala' },
    ...PIN_REFUSAL_PHRASES,
  },
  states: {
    pin: {
      async screen(ctx) {
        // The engine keeps the name it read when the session opened; a wrong PIN shows this screen again.
        const name =
          ctx.get('first_name') ??
          (ctx.customerId ? await ctx.services.account.greetingName(ctx.customerId) : '');
        return { phrase: 'welcome', values: { name } };
      },
      input: { type: 'pin' },
      async next(pin, ctx) {
        // The engine starts here only for a number it knows.
        if (!ctx.customerId) return { end: { phrase: 'common.error' } };
        const check = await ctx.services.account.verifyPin(ctx.customerId, pin);
        const refusal = pinRefusal(check);
        if (refusal) return refusal;
        ctx.signIn(ctx.customerId);
        return { go: 'menu' };
      },
    },
    menu: {
      screen: () => menuScreen,
      input: { type: 'choice' },
      next(journey, ctx) {
        // Only `00` after sign-in leads here, but the menu must not open any journey to a session without the PIN.
        if (!ctx.signedIn) return { journey: 'home', state: 'pin' };
        return { journey };
      },
    },
  },
});
