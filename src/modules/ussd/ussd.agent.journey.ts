/**
 * Agent cash (main menu "Agent"): two journeys in one menu.
 * - Withdraw cash at an agent: the agent number, the amount (the one-time-code threshold is checked before the PIN),
 *   then a confirmation that takes the PIN and ends with the 6-digit withdrawal code and its expiry, for the operator
 *   to type. The code is bound to that agent, that amount and the customer, and pays out once.
 * - Finishing an agent-assisted registration (the register journey leads here for a number an agent registered and
 *   whose phone the customer verified at the counter): the terms (their link came by SMS), then the PIN twice on the
 *   customer's own phone, so the operator never sees it; the onboarding module completes the registration.
 * - Approve agent withdrawal: the customer's pending cash-outs started by an operator (agent name, amount); one is
 *   chosen, the PIN approves it and the cash-out posts (approved, with fee and reference), or the refusal is shown.
 */
import type { RequestContext } from '../../platform/audit.ts';
import { agentNumberOf } from './ussd.agent.ts';
import { defineJourney, type Outcome, type StateContext } from './ussd.menu.ts';
import {
  customerOf,
  MONEY_PHRASES,
  MONEY_VALUES,
  money,
  moneyCall,
  refusalScreen,
  sessionCurrency,
} from './ussd.money.screens.ts';
import type { UssdServices } from './ussd.ports.ts';

/** Refusals of an approval that mean the request is gone (decided, expired, failed, not the customer's). */
const GONE = new Set(['AGENT_CASH_OUT_NOT_PENDING', 'AGENT_CASH_OUT_NOT_FOUND']);

/** Nobody is signed in while a registration completes: the session is the request, the actor anonymous. */
function registrationContext(ctx: StateContext<unknown>): RequestContext {
  return {
    actor: { type: 'anonymous', id: null },
    ip: null,
    userAgent: `ussd/${ctx.gateway}`,
    requestId: `ussd:${ctx.gateway}:${ctx.sessionId}`.slice(0, 128),
  };
}

/** "14:05 UTC": when a code expires, as a handset shows it. */
function clock(at: Date): string {
  return `${at.toISOString().slice(11, 16)} UTC`;
}

export const agentJourney = defineJourney<UssdServices>({
  id: 'agent',
  start: 'menu',
  values: { ...MONEY_VALUES, agent: 20, number: 8, code: 6, time: 9 },
  phrases: {
    ...MONEY_PHRASES,
    menu: { en: 'Agent', fr: 'Agent', sw: 'Wakala' },
    'menu.withdraw': {
      en: 'Withdraw cash at an agent',
      fr: 'Retirer chez un agent',
      sw: 'Toa pesa kwa wakala',
    },
    'menu.approve': {
      en: 'Approve agent withdrawal',
      fr: 'Approuver un retrait agent',
      sw: 'Idhinisha utoaji wa wakala',
    },
    number: {
      en: 'Withdraw cash\nEnter the agent number',
      fr: 'Retrait\nEntrez le numero de l agent',
      sw: 'Toa pesa\nWeka namba ya wakala',
    },
    bad_number: {
      en: 'An agent number is A and 7 digits.',
      fr: 'Un numero d agent est A et 7 chiffres.',
      sw: 'Namba ya wakala ni A na tarakimu 7.',
    },
    amount: {
      en: 'Withdraw at agent {number}\nEnter amount ({currency})',
      fr: 'Retrait chez l agent {number}\nEntrez le montant ({currency})',
      sw: 'Toa kwa wakala {number}\nWeka kiasi ({currency})',
    },
    confirm: {
      en: 'Withdraw {amount} at agent {number}. Enter PIN to get your code, 0 to cancel',
      fr: 'Retirer {amount} chez l agent {number}. PIN pour obtenir le code, 0 pour annuler',
      sw: 'Toa {amount} kwa wakala {number}. Weka PIN kupata nambari, 0 kughairi',
    },
    code: {
      en: 'Code {code}: withdraw {amount} at agent {number}. Expires {time}. Give it to the agent only.',
      fr: 'Code {code}: retrait de {amount} chez l agent {number}. Expire a {time}. A donner a l agent seul.',
      sw: 'Nambari {code}: toa {amount} kwa wakala {number}. Inaisha {time}. Mpe wakala pekee.',
    },
    unknown_agent: {
      en: 'No active agent with that number.',
      fr: 'Aucun agent actif avec ce numero.',
      sw: 'Hakuna wakala hai mwenye namba hiyo.',
    },
    pending: {
      en: 'Withdrawals to approve',
      fr: 'Retraits a approuver',
      sw: 'Utoaji wa kuidhinisha',
    },
    none: {
      en: 'No agent withdrawal is waiting for your approval.',
      fr: 'Aucun retrait agent n attend votre approbation.',
      sw: 'Hakuna utoaji wa wakala unaosubiri idhini yako.',
    },
    approve: {
      en: 'Approve cash-out of {amount} at {agent}? Enter PIN to approve, 0 to cancel',
      fr: 'Approuver le retrait de {amount} chez {agent}? PIN pour approuver, 0 pour annuler',
      sw: 'Idhinisha utoaji wa {amount} kwa {agent}? Weka PIN kuidhinisha, 0 kughairi',
    },
    approved: {
      en: 'Approved: {amount} at {agent}. Fee {fee}. Ref {reference}',
      fr: 'Approuve: {amount} chez {agent}. Frais {fee}. Ref {reference}',
      sw: 'Imeidhinishwa: {amount} kwa {agent}. Ada {fee}. Kumb {reference}',
    },
    reg_terms: {
      en: 'An agent registered you. Accept the terms?',
      fr: 'Un agent vous a inscrit. Acceptez-vous les conditions?',
      sw: 'Wakala amekusajili. Unakubali masharti?',
    },
    accept: { en: 'Accept', fr: 'Accepter', sw: 'Kubali' },
    decline: { en: 'Decline', fr: 'Refuser', sw: 'Kataa' },
    reg_declined: {
      en: 'Registration not finished. Dial again to accept the terms.',
      fr: 'Inscription non terminee. Rappelez pour accepter les conditions.',
      sw: 'Usajili haujakamilika. Piga tena kukubali masharti.',
    },
    reg_pin: {
      en: 'Choose your PIN (4 to 6 digits). Do not tell it to anyone, not even the agent.',
      fr: 'Choisissez votre PIN (4 a 6 chiffres). Ne le dites a personne, pas meme a l agent.',
      sw: 'Chagua PIN yako (tarakimu 4 hadi 6). Usimwambie mtu, hata wakala.',
    },
    reg_pin_again: {
      en: 'Enter your PIN again',
      fr: 'Entrez encore votre PIN',
      sw: 'Weka PIN yako tena',
    },
    reg_weak_pin: {
      en: 'This PIN is too easy to guess. Choose another.',
      fr: 'Ce PIN est trop facile a deviner. Choisissez-en un autre.',
      sw: 'PIN hii ni rahisi kukisiwa. Chagua nyingine.',
    },
    reg_mismatch: {
      en: 'The PINs do not match. Enter it again or 0 to choose another.',
      fr: 'Les PIN ne correspondent pas. Entrez-le encore ou 0 pour en choisir un autre.',
      sw: 'PIN hazilingani. Iweke tena au 0 kuchagua nyingine.',
    },
    reg_active: {
      en: 'Your account is ready. Dial again and enter your PIN to use it. We sent you an SMS.',
      fr: 'Votre compte est pret. Rappelez et entrez votre PIN pour l utiliser. Un SMS vous a ete envoye.',
      sw: 'Akaunti yako iko tayari. Piga tena na uweke PIN kuitumia. Tumekutumia SMS.',
    },
    reg_in_review: {
      en: 'Thank you. We are checking your details and will send you an SMS when your account is ready.',
      fr: 'Merci. Nous verifions vos informations et vous enverrons un SMS quand votre compte sera pret.',
      sw: 'Asante. Tunakagua taarifa zako na tutakutumia SMS akaunti yako ikiwa tayari.',
    },
    reg_gone: {
      en: 'This registration is no longer waiting for your PIN. Please see the agent.',
      fr: 'Cette inscription n attend plus votre PIN. Voyez l agent.',
      sw: 'Usajili huu hausubiri PIN yako tena. Tafadhali muone wakala.',
    },
    gone: {
      en: 'This withdrawal is no longer waiting for approval.',
      fr: 'Ce retrait n attend plus d approbation.',
      sw: 'Utoaji huu hausubiri idhini tena.',
    },
  },
  states: {
    menu: {
      screen: () => ({
        phrase: 'menu',
        options: [
          { label: { phrase: 'menu.withdraw' }, value: 'withdraw' },
          { label: { phrase: 'menu.approve' }, value: 'approve' },
        ],
      }),
      input: { type: 'choice' },
      async next(choice, ctx) {
        const customerId = customerOf(ctx);
        if (!customerId) return { journey: 'home', state: 'pin' };
        if (choice === 'withdraw') return { go: 'number' };
        const pending = await ctx.services.agent.pendingCashOuts(customerId);
        if (pending.length === 0) return { end: { phrase: 'none' } };
        return { go: 'pending' };
      },
    },

    // ---- Withdraw cash at an agent: a withdrawal code -------------------------------------------------------------
    number: {
      async screen(ctx) {
        await sessionCurrency(ctx);
        return { phrase: 'number' };
      },
      input: { type: 'code', min: 7, max: 8 },
      async next(typed, ctx) {
        const number = agentNumberOf(typed);
        if (!number) return { retry: { phrase: 'bad_number' } };
        if (!(await sessionCurrency(ctx))) return { end: { phrase: 'money.no_wallet' } };
        ctx.set('agent_number', number);
        return { go: 'amount' };
      },
    },
    amount: {
      screen: (ctx) => ({
        phrase: 'amount',
        values: { number: ctx.get('agent_number') ?? '', currency: ctx.get('currency') ?? '' },
      }),
      input: { type: 'amount' },
      async next(amount, ctx) {
        const currency = ctx.get('currency');
        if (!customerOf(ctx) || !currency || !ctx.get('agent_number'))
          return { end: { phrase: 'common.error' } };
        const threshold = await ctx.services.agent.needsApp(BigInt(amount), currency);
        if (threshold) return { retry: { phrase: 'money.use_app', values: { threshold } } };
        ctx.set('amount', amount);
        return { go: 'confirm' };
      },
    },
    confirm: {
      screen: (ctx) => ({
        phrase: 'confirm',
        values: {
          amount: money(ctx.get('amount'), ctx.get('currency')),
          number: ctx.get('agent_number') ?? '',
        },
      }),
      input: { type: 'pin' },
      async next(pin, ctx): Promise<Outcome> {
        const customerId = customerOf(ctx);
        const [agentNumber, amount, currency] = [
          ctx.get('agent_number'),
          ctx.get('amount'),
          ctx.get('currency'),
        ];
        if (!customerId || !agentNumber || !amount || !currency) return { end: { phrase: 'common.error' } };
        const made = await ctx.services.agent.withdrawalCode(moneyCall(ctx, customerId, 'agent_code'), {
          agentNumber,
          amount: BigInt(amount),
          currency,
          pin,
        });
        if (made.kind === 'refused')
          return made.code === 'AGENT_NUMBER_UNKNOWN'
            ? { end: { phrase: 'unknown_agent' } }
            : refusalScreen(made, 'pay');
        return {
          end: {
            phrase: 'code',
            values: {
              code: made.code,
              amount: money(made.amount, made.currency),
              number: made.agentNumber,
              time: clock(made.expiresAt),
            },
          },
        };
      },
    },

    // ---- Finishing an agent-assisted registration: terms and PIN on the customer's own phone -----------------------
    reg_terms: {
      async screen(ctx) {
        // The agent gives the terms at the counter. (No SMS is queued from here: see docs/agents.md, Registration.)
        void ctx;
        return {
          phrase: 'reg_terms',
          options: [
            { key: '1', label: { phrase: 'accept' }, value: 'accept' },
            { key: '2', label: { phrase: 'decline' }, value: 'decline' },
          ],
        };
      },
      input: { type: 'choice' },
      next(value, ctx) {
        if (value !== 'accept') return { end: { phrase: 'reg_declined' } };
        ctx.set('reg_terms', 'accepted');
        return { go: 'reg_pin' };
      },
    },
    reg_pin: {
      screen: () => ({ phrase: 'reg_pin' }),
      input: { type: 'pin' },
      next(pin, ctx) {
        if (ctx.services.account.pinProblem(pin)) return { retry: { phrase: 'reg_weak_pin' } };
        ctx.set('reg_pin', ctx.pinDigest(pin));
        return { go: 'reg_pin_again' };
      },
    },
    reg_pin_again: {
      screen: () => ({ phrase: 'reg_pin_again' }),
      input: { type: 'pin' },
      async next(pin, ctx): Promise<Outcome> {
        const wanted = ctx.get('reg_pin');
        if (!wanted || ctx.get('reg_terms') !== 'accepted') return { go: 'reg_terms' };
        if (ctx.pinDigest(pin) !== wanted) return { retry: { phrase: 'reg_mismatch' } };
        const answer = await ctx.services.agent.completeRegistration(
          ctx.msisdn,
          pin,
          registrationContext(ctx),
        );
        ctx.set('reg_pin', '');
        if (answer.outcome !== 'refused')
          return { end: { phrase: answer.outcome === 'active' ? 'reg_active' : 'reg_in_review' } };
        if (answer.reason === 'weak_pin') return { journey: 'agent', state: 'reg_pin' };
        if (answer.reason === 'unavailable') return { end: { phrase: 'common.error' } };
        return { end: { phrase: 'reg_gone' } };
      },
    },

    // ---- Approve agent withdrawal: an operator's request ----------------------------------------------------------
    pending: {
      async screen(ctx) {
        const customerId = customerOf(ctx);
        const pending = customerId ? await ctx.services.agent.pendingCashOuts(customerId) : [];
        return {
          phrase: 'pending',
          options: pending.map((item) => ({
            label: { text: `${item.agentName} ${money(item.amount, item.currency)}` },
            value: item.id,
          })),
        };
      },
      input: { type: 'choice' },
      async next(id, ctx) {
        const customerId = customerOf(ctx);
        if (!customerId) return { end: { phrase: 'common.error' } };
        const chosen = (await ctx.services.agent.pendingCashOuts(customerId)).find((item) => item.id === id);
        if (!chosen) return { end: { phrase: 'gone' } };
        const threshold = await ctx.services.agent.needsApp(chosen.amount, chosen.currency);
        if (threshold) return { end: { phrase: 'money.use_app', values: { threshold } } };
        ctx.set('cash_out', chosen.id);
        ctx.set('cash_out_agent', chosen.agentName);
        ctx.set('cash_out_amount', chosen.amount.toString());
        ctx.set('cash_out_currency', chosen.currency);
        return { go: 'approve' };
      },
    },
    approve: {
      screen: (ctx) => ({
        phrase: 'approve',
        values: {
          amount: money(ctx.get('cash_out_amount'), ctx.get('cash_out_currency')),
          agent: ctx.get('cash_out_agent') ?? '',
        },
      }),
      input: { type: 'pin' },
      async next(pin, ctx): Promise<Outcome> {
        const customerId = customerOf(ctx);
        const id = ctx.get('cash_out');
        if (!customerId || !id) return { end: { phrase: 'common.error' } };
        const outcome = await ctx.services.agent.approveCashOut(
          moneyCall(ctx, customerId, 'agent_approve'),
          id,
          pin,
        );
        if (outcome.kind === 'refused')
          return GONE.has(outcome.code) ? { end: { phrase: 'gone' } } : refusalScreen(outcome, 'pay');
        return {
          end: {
            phrase: 'approved',
            values: {
              amount: money(outcome.amount, outcome.currency),
              agent: ctx.get('cash_out_agent') ?? '',
              fee: money(outcome.charges, outcome.currency),
              reference: outcome.reference,
            },
          },
        };
      },
    },
  },
});
