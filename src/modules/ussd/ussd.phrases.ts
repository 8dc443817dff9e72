/** Phrases every journey shares (`common.<key>` in a screen), and the placeholders they use. */
import type { Phrase } from './ussd.menu.ts';

export const COMMON_VALUES: Readonly<Record<string, number>> = {};

export const COMMON_PHRASES: Readonly<Record<string, Phrase>> = {
  invalid_choice: {
    en: 'Invalid choice.',
    fr: 'Choix invalide.',
    sw: 'Chaguo si sahihi.',
  },
  invalid_number: {
    en: 'Enter digits only.',
    fr: 'Saisissez des chiffres.',
    sw: 'Weka tarakimu pekee.',
  },
  invalid_amount: {
    en: 'Invalid amount.',
    fr: 'Montant invalide.',
    sw: 'Kiasi si sahihi.',
  },
  invalid_phone: {
    en: 'Invalid phone number.',
    fr: 'Numero invalide.',
    sw: 'Namba ya simu si sahihi.',
  },
  invalid_pin: {
    en: 'A PIN is 4 to 6 digits.',
    fr: 'Le PIN a 4 a 6 chiffres.',
    sw: 'PIN ni tarakimu 4 hadi 6.',
  },
  invalid_text: {
    en: 'Invalid entry.',
    fr: 'Saisie invalide.',
    sw: 'Ingizo si sahihi.',
  },
  invalid_date: {
    en: 'Enter the date as DDMMYYYY.',
    fr: 'Saisissez la date JJMMAAAA.',
    sw: 'Weka tarehe kama DDMMYYYY.',
  },
  invalid_code: {
    en: 'Invalid number.',
    fr: 'Numero invalide.',
    sw: 'Namba si sahihi.',
  },
  more: { en: 'More', fr: 'Suite', sw: 'Zaidi' },
  back: { en: 'Back', fr: 'Retour', sw: 'Rudi' },
  busy: {
    en: 'Service busy, you will receive an SMS.',
    fr: 'Service occupe, vous recevrez un SMS.',
    sw: 'Huduma ina shughuli, utapokea SMS.',
  },
  error: {
    en: 'Sorry, something went wrong. Please try again later.',
    fr: 'Desole, une erreur est survenue. Reessayez plus tard.',
    sw: 'Samahani, kuna hitilafu. Tafadhali jaribu tena baadaye.',
  },
  disabled: {
    en: 'USSD banking is off for this number. Turn it on in the app or ask us.',
    fr: 'Le service USSD est desactive pour ce numero. Activez-le dans l app ou contactez-nous.',
    sw: 'Huduma ya USSD imezimwa kwa namba hii. Iwashe kwenye app au wasiliana nasi.',
  },
  inactive: {
    en: 'This account cannot be used. Please contact us.',
    fr: 'Ce compte ne peut pas etre utilise. Contactez-nous.',
    sw: 'Akaunti hii haiwezi kutumika. Tafadhali wasiliana nasi.',
  },
  goodbye: { en: 'Goodbye.', fr: 'Au revoir.', sw: 'Kwaheri.' },
};
