/**
 * Registration of an unknown number (where the engine starts one): language, full name, national ID, date of birth,
 * the short terms (their link goes by SMS when the screen is shown), the PIN twice, then one submission to the
 * onboarding module, which applies the app's rules (a bank client matched by national ID is active at once; a
 * declared identity waits for a reviewer) and sends the confirmation SMS. The first PIN is kept only as a keyed
 * digest to compare the second with; the second reaches the submission and nothing else.
 */
import type { RequestContext } from '../../platform/audit.ts';
import type { PinProblem } from './ussd.account.ts';
import { defineJourney, LANGUAGES, type Outcome, type StateContext } from './ussd.menu.ts';
import type { UssdServices } from './ussd.ports.ts';
import type { UssdRefusal } from './ussd.registration.ts';

const LANGUAGE_NAMES = { en: 'English', fr: 'Francais', sw: 'Kiswahili' } as const;

const PIN_PHRASE: Record<PinProblem, string> = {
  format: 'common.invalid_pin',
  sequence: 'weak_pin',
  repeat: 'weak_pin',
  common: 'weak_pin',
  year: 'weak_pin',
};

const REFUSAL_PHRASE: Record<UssdRefusal, string> = {
  exists: 'exists',
  not_eligible: 'not_eligible',
  unavailable: 'unavailable',
  weak_pin: 'weak_pin',
  invalid_details: 'invalid_details',
  rejected: 'rejected',
  rate_limited: 'try_later',
};

/** Nobody is signed in yet: the session is the request, the actor anonymous. */
function registrationContext(ctx: StateContext<unknown>): RequestContext {
  return {
    actor: { type: 'anonymous', id: null },
    ip: null,
    userAgent: `ussd/${ctx.gateway}`,
    requestId: `ussd:${ctx.gateway}:${ctx.sessionId}`,
  };
}

/** A date of birth in the past and at most 120 years ago (the input type checked it is a real date). */
function plausibleBirthDate(iso: string): boolean {
  const years = (Date.now() - Date.parse(`${iso}T00:00:00Z`)) / (365.25 * 86_400_000);
  return years > 0 && years <= 120;
}

async function submit(pin: string, ctx: StateContext<UssdServices>): Promise<Outcome> {
  const fullName = ctx.get('name');
  const nationalId = ctx.get('national_id');
  const dateOfBirth = ctx.get('dob');
  if (!fullName || !nationalId || !dateOfBirth || ctx.get('terms') !== 'accepted') return { go: 'name' };
  const answer = await ctx.services.registration.register(
    { msisdn: ctx.msisdn, fullName, nationalId, dateOfBirth, pin, language: ctx.language },
    registrationContext(ctx),
  );
  ctx.set('pin', '');
  if (answer.outcome === 'active') return { end: { phrase: 'active' } };
  if (answer.outcome === 'in_review') return { end: { phrase: 'in_review' } };
  return { end: { phrase: REFUSAL_PHRASE[answer.reason ?? 'unavailable'] } };
}

export const registerJourney = defineJourney<UssdServices>({
  id: 'register',
  start: 'language',
  values: {},
  phrases: {
    welcome: {
      en: 'Welcome to CodeForge. Choose your language:',
      fr: 'Bienvenue chez CodeForge. Choisissez votre langue :',
      sw: 'Karibu CodeForge. Chagua lugha yako:',
    },
    name: {
      en: 'Enter your full name as on your ID',
      fr: 'Entrez votre nom complet comme sur votre piece d identite',
      sw: 'Weka jina lako kamili kama kwenye kitambulisho',
    },
    two_names: {
      en: 'Enter at least two names.',
      fr: 'Entrez au moins deux noms.',
      sw: 'Weka angalau majina mawili.',
    },
    national_id: {
      en: 'Enter your national ID number',
      fr: 'Entrez votre numero de carte d identite',
      sw: 'Weka namba yako ya kitambulisho',
    },
    dob: {
      en: 'Enter your date of birth (DDMMYYYY)',
      fr: 'Entrez votre date de naissance (JJMMAAAA)',
      sw: 'Weka tarehe yako ya kuzaliwa (DDMMYYYY)',
    },
    dob_invalid: {
      en: 'This date of birth is not possible.',
      fr: 'Cette date de naissance est impossible.',
      sw: 'Tarehe hii ya kuzaliwa haiwezekani.',
    },
    terms: {
      en: 'To open an account you accept our terms and privacy policy. We sent you the link by SMS.',
      fr: 'Pour ouvrir un compte, acceptez nos conditions et notre politique de confidentialite. Le lien vous est envoye par SMS.',
      sw: 'Kufungua akaunti unakubali masharti na sera ya faragha. Tumekutumia kiungo kwa SMS.',
    },
    accept: { en: 'Accept', fr: 'Accepter', sw: 'Kubali' },
    decline: { en: 'Decline', fr: 'Refuser', sw: 'Kataa' },
    declined: {
      en: 'You did not accept the terms, so no account was opened. Dial again any time.',
      fr: 'Vous n avez pas accepte les conditions: aucun compte ouvert. Rappelez quand vous voulez.',
      sw: 'Hukukubali masharti, hivyo akaunti haikufunguliwa. Piga tena wakati wowote.',
    },
    pin: {
      en: 'Choose a PIN (4 to 6 digits)',
      fr: 'Choisissez un PIN (4 a 6 chiffres)',
      sw: 'Chagua PIN (tarakimu 4 hadi 6)',
    },
    pin_again: {
      en: 'Enter your PIN again',
      fr: 'Entrez encore votre PIN',
      sw: 'Weka PIN yako tena',
    },
    weak_pin: {
      en: 'This PIN is too easy to guess. Choose another.',
      fr: 'Ce PIN est trop facile a deviner. Choisissez-en un autre.',
      sw: 'PIN hii ni rahisi kukisiwa. Chagua nyingine.',
    },
    mismatch: {
      en: 'The PINs do not match. Enter it again or 0 to choose another.',
      fr: 'Les PIN ne correspondent pas. Entrez-le encore ou 0 pour en choisir un autre.',
      sw: 'PIN hazilingani. Iweke tena au 0 kuchagua nyingine.',
    },
    active: {
      en: 'Your account is ready. Dial again and enter your PIN to use it. We sent you an SMS.',
      fr: 'Votre compte est pret. Rappelez et entrez votre PIN pour l utiliser. Un SMS vous a ete envoye.',
      sw: 'Akaunti yako iko tayari. Piga tena na uweke PIN kuitumia. Tumekutumia SMS.',
    },
    in_review: {
      en: 'Thank you. We are checking your details and will send you an SMS when your account is ready.',
      fr: 'Merci. Nous verifions vos informations et vous enverrons un SMS quand votre compte sera pret.',
      sw: 'Asante. Tunakagua taarifa zako na tutakutumia SMS akaunti yako ikiwa tayari.',
    },
    exists: {
      en: 'This number already has an account. Dial again to sign in with your PIN.',
      fr: 'Ce numero a deja un compte. Rappelez pour vous connecter avec votre PIN.',
      sw: 'Namba hii tayari ina akaunti. Piga tena kuingia kwa PIN yako.',
    },
    not_eligible: {
      en: 'This number cannot register. Please visit a branch or an agent.',
      fr: 'Ce numero ne peut pas s inscrire. Rendez-vous en agence ou chez un agent.',
      sw: 'Namba hii haiwezi kusajiliwa. Tafadhali tembelea tawi au wakala.',
    },
    unavailable: {
      en: 'Registration is not available now. Please try again later.',
      fr: 'L inscription n est pas disponible. Reessayez plus tard.',
      sw: 'Usajili haupatikani sasa. Tafadhali jaribu tena baadaye.',
    },
    invalid_details: {
      en: 'Your details could not be accepted. Dial again to check them.',
      fr: 'Vos informations n ont pas pu etre acceptees. Rappelez pour les verifier.',
      sw: 'Taarifa zako hazikukubaliwa. Piga tena kuzikagua.',
    },
    rejected: {
      en: 'Your registration was not approved. Please visit a branch or an agent.',
      fr: 'Votre inscription n a pas ete approuvee. Rendez-vous en agence ou chez un agent.',
      sw: 'Usajili wako haukuidhinishwa. Tafadhali tembelea tawi au wakala.',
    },
    try_later: {
      en: 'Too many attempts. Please try again in an hour.',
      fr: 'Trop de tentatives. Reessayez dans une heure.',
      sw: 'Majaribio mengi mno. Tafadhali jaribu tena baada ya saa moja.',
    },
  },
  states: {
    language: {
      screen: () => ({
        phrase: 'welcome',
        options: LANGUAGES.map((language, index) => ({
          key: String(index + 1),
          label: { text: LANGUAGE_NAMES[language] },
          value: language,
        })),
      }),
      input: { type: 'choice' },
      async next(value, ctx) {
        const language = LANGUAGES.find((candidate) => candidate === value);
        if (language) ctx.setLanguage(language);
        // An agent registered this number and the customer verified it at the counter: only terms and PIN remain.
        if (await ctx.services.agent.registrationAwaitingPin(ctx.msisdn))
          return { journey: 'agent', state: 'reg_terms' };
        return { go: 'name' };
      },
    },
    name: {
      screen: () => ({ phrase: 'name' }),
      input: { type: 'text', min: 3, max: 60 },
      next(value, ctx) {
        if (value.split(' ').filter(Boolean).length < 2) return { retry: { phrase: 'two_names' } };
        ctx.set('name', value);
        return { go: 'national_id' };
      },
    },
    national_id: {
      screen: () => ({ phrase: 'national_id' }),
      input: { type: 'code', min: 5, max: 20 },
      next(value, ctx) {
        ctx.set('national_id', value);
        return { go: 'dob' };
      },
    },
    dob: {
      screen: () => ({ phrase: 'dob' }),
      input: { type: 'date' },
      next(value, ctx) {
        if (!plausibleBirthDate(value)) return { retry: { phrase: 'dob_invalid' } };
        ctx.set('dob', value);
        return { go: 'terms' };
      },
    },
    terms: {
      async screen(ctx) {
        // Once per session however often the screen is shown again (a wrong key, back); onboarding caps per phone.
        if (!ctx.get('terms_sms')) {
          ctx.set('terms_sms', '1');
          // The link is a courtesy: a failed send must not stop the registration.
          await ctx.services.registration.sendTermsLink(ctx.msisdn, ctx.language).catch(() => false);
        }
        return {
          phrase: 'terms',
          options: [
            { key: '1', label: { phrase: 'accept' }, value: 'accept' },
            { key: '2', label: { phrase: 'decline' }, value: 'decline' },
          ],
        };
      },
      input: { type: 'choice' },
      next(value, ctx) {
        if (value !== 'accept') return { end: { phrase: 'declined' } };
        ctx.set('terms', 'accepted');
        return { go: 'pin' };
      },
    },
    pin: {
      screen: () => ({ phrase: 'pin' }),
      input: { type: 'pin' },
      next(pin, ctx) {
        // The app's PIN rules, before the PIN is asked again.
        const problem = ctx.services.account.pinProblem(pin);
        if (problem) return { retry: { phrase: PIN_PHRASE[problem] } };
        ctx.set('pin', ctx.pinDigest(pin));
        return { go: 'pin_again' };
      },
    },
    pin_again: {
      screen: () => ({ phrase: 'pin_again' }),
      input: { type: 'pin' },
      async next(pin, ctx) {
        const wanted = ctx.get('pin');
        if (!wanted) return { go: 'pin' };
        if (ctx.pinDigest(pin) !== wanted) return { retry: { phrase: 'mismatch' } };
        return submit(pin, ctx);
      },
    },
  },
});
