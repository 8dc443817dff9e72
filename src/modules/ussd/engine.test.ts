/** The engine on its own: sessions, retries by position, back/home, pagination, PIN handling, the step budget. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { digitsStandAlone } from '../../../test/helpers/secrets.ts';
import { MemoryStore } from '../../platform/cache.ts';
import type { EngineConfig } from './ussd.config.ts';
import { UssdEngine } from './ussd.engine.ts';
import type { UssdRequest } from './ussd.gateway.types.ts';
import { defineJourney, type Journey, SCREEN_LIMIT } from './ussd.menu.ts';
import type { UssdServices } from './ussd.ports.ts';

const phrase = (en: string) => ({ en, fr: `fr ${en}`, sw: `sw ${en}` });

function world(options: { known?: boolean; budgetMs?: number; slowMs?: number } = {}) {
  const effects: string[] = [];
  const pinsSeen: string[] = [];
  const sms: string[] = [];
  const home = defineJourney<UssdServices>({
    id: 'home',
    start: 'pin',
    values: { name: 10 },
    phrases: {
      welcome: phrase('Welcome {name}. Enter PIN'),
      wrong: phrase('Wrong PIN.'),
      menu: phrase('Menu'),
      item: phrase('Item {n}'),
      pay_amount: phrase('Amount?'),
      paid: phrase('Paid {amount}.'),
    },
    states: {
      pin: {
        screen: () => ({ phrase: 'welcome', values: { name: 'Wanjiku Kamau-Otieno' } }),
        input: { type: 'pin' },
        next: (pin, ctx) => {
          pinsSeen.push(pin);
          if (pin !== '4826') return { retry: { phrase: 'wrong' } };
          ctx.signIn('c1');
          return { go: 'menu' };
        },
      },
      menu: {
        screen: () => ({
          phrase: 'menu',
          options: Array.from({ length: 30 }, (_, i) => ({
            label: { phrase: 'item', values: { n: i + 1 } },
            value: `item-${i + 1}`,
          })),
        }),
        input: { type: 'choice' },
        next: (value) => (value === 'item-1' ? { go: 'amount' } : { end: { phrase: 'menu' } }),
      },
      amount: {
        screen: () => ({ phrase: 'pay_amount' }),
        input: { type: 'amount' },
        next: async (minor, ctx) => {
          if (options.slowMs) await new Promise((resolve) => setTimeout(resolve, options.slowMs));
          effects.push(`${ctx.idempotencyKey('pay')}=${minor}`);
          return { end: { phrase: 'paid', values: { amount: minor } } };
        },
      },
    },
  }) as Journey<UssdServices>;
  const register = defineJourney<UssdServices>({
    id: 'register',
    start: 'name',
    values: {},
    phrases: { name: phrase('Your name?'), pin: phrase('PIN?'), done: phrase('Done') },
    states: {
      name: {
        screen: () => ({ phrase: 'name' }),
        input: { type: 'text', max: 30 },
        next: () => ({ go: 'pin' }),
      },
      pin: {
        screen: () => ({ phrase: 'pin' }),
        input: { type: 'pin' },
        next: (pin, ctx) => {
          ctx.set('pin', pin);
          return { end: { phrase: 'done' } };
        },
      },
    },
  }) as Journey<UssdServices>;
  const config: EngineConfig = {
    USSD_DEFAULT_LANGUAGE: 'en',
    USSD_STEP_BUDGET_MS: options.budgetMs ?? 2000,
    USSD_DUPLICATE_WINDOW_MS: 3000,
  };
  const errors: string[] = [];
  const engine = new UssdEngine({
    store: new MemoryStore(),
    journeys: [home, register],
    services: {
      account: {
        lookup: async () =>
          options.known === false
            ? null
            : { customerId: 'c1', enabled: true, language: null, active: true, firstName: 'W' },
      },
    } as unknown as UssdServices,
    config,
    pepper: 'pepper',
    sessionTtlMs: () => 60_000,
    notifier: { outcome: async (_to, message) => void sms.push(message) },
    logger: { warn: () => {}, error: (o, m) => void errors.push(`${m} ${JSON.stringify(o)}`) },
  });
  return { engine, effects, pinsSeen, sms, errors };
}

function at(sessionId: string, path: string): UssdRequest {
  return {
    gateway: 'at',
    sessionId,
    msisdn: '+254712345678',
    serviceCode: '*384#',
    network: '63902',
    isNew: path === '',
    input: { path },
    sequence: null,
    closed: false,
  };
}

function nalo(sessionId: string, latest: string, isNew = false): UssdRequest {
  return { ...at(sessionId, ''), gateway: 'nalo', isNew, input: { latest }, sequence: null };
}

describe('USSD engine', () => {
  it('signs in, cuts values to their declared length, and paginates a long menu within the screen limit', async () => {
    const { engine } = world();
    const first = await engine.handle(at('s1', ''));
    assert.equal(first.continue, true);
    assert.equal(first.message, 'Welcome Wanjiku Ka. Enter PIN');
    const menu = await engine.handle(at('s1', '4826'));
    assert.ok(menu.message.startsWith('Menu\n1. Item 1'));
    assert.match(menu.message, /98\. More$/);
    assert.ok(menu.message.length <= SCREEN_LIMIT);
    const page2 = await engine.handle(at('s1', '4826*98'));
    assert.match(page2.message, /0\. Back$/);
    assert.ok(!page2.message.includes('\n1. Item 1\n'));
    const shown = Number(/\n(\d+)\. Item/.exec(page2.message)![1]);
    // A key of another page still picks its option; 0 goes back a page first.
    const back = await engine.handle(at('s1', '4826*98*0'));
    assert.equal(back.message, menu.message);
    // Back from the first screen after sign-in stays there (no way back to the PIN screen).
    assert.equal((await engine.handle(at('s1', '4826*98*0*0'))).message, menu.message);
    assert.ok(shown > 1);
  });

  it('answers a step Africa’s Talking delivers again with the same reply and one effect', async () => {
    const { engine, effects } = world();
    await engine.handle(at('s2', ''));
    await engine.handle(at('s2', '4826'));
    await engine.handle(at('s2', '4826*1'));
    const results = await Promise.all([1, 2, 3].map(() => engine.handle(at('s2', '4826*1*150.50'))));
    const late = await engine.handle(at('s2', '4826*1'));
    assert.deepEqual(effects, ['ussd:at:s2:3:home.amount:pay=15050']);
    for (const reply of results) assert.deepEqual(reply, { continue: false, message: 'Paid 15050.' });
    // A late copy of an earlier step gets that step's own answer again (the gateway shows it to no one).
    assert.deepEqual(late, { continue: true, message: 'Amount?' });
  });

  it('reads an Africa’s Talking input that itself contains * by what was consumed before', async () => {
    const { engine, pinsSeen } = world();
    await engine.handle(at('s3', ''));
    const reply = await engine.handle(at('s3', '12*4'));
    assert.deepEqual(pinsSeen, []);
    assert.match(reply.message, /^A PIN is 4 to 6 digits\./);
  });

  it('goes back with 0 and home with 00, and refuses invalid input with the shared phrase', async () => {
    const { engine } = world();
    await engine.handle(at('s4', ''));
    await engine.handle(at('s4', '4826'));
    const amount = await engine.handle(at('s4', '4826*1'));
    assert.equal(amount.message, 'Amount?');
    const invalid = await engine.handle(at('s4', '4826*1*12.345'));
    assert.equal(invalid.message, 'Invalid amount.\nAmount?');
    const back = await engine.handle(at('s4', '4826*1*12.345*0'));
    assert.ok(back.message.startsWith('Menu\n'));
    await engine.handle(at('s4', '4826*1*12.345*0*1'));
    const home = await engine.handle(at('s4', '4826*1*12.345*0*1*00'));
    assert.ok(home.message.startsWith('Menu\n'));
  });

  it('never lets a PIN into the session, and recognises a latest-input gateway retry by a digest', async () => {
    const { engine, errors } = world({ known: false });
    await engine.handle(nalo('s5', '*920#', true));
    await engine.handle(nalo('s5', 'Akinyi'));
    const reply = await engine.handle(nalo('s5', '4826'));
    assert.equal(reply.continue, false);
    assert.match(reply.message, /something went wrong/);
    assert.ok(errors.some((line) => line.includes('ussd state failed')));
    assert.equal(digitsStandAlone(errors.join('\n'), '4826').found, false, 'the PIN is not logged');
    const again = await engine.handle(nalo('s5', '4826'));
    assert.deepEqual(again, reply);
  });

  it('takes a new dial under a subscriber-wide session id (Nalo) as a new session once the first screen was answered', async () => {
    const { engine } = world();
    const first = await engine.handle(nalo('s7', '', true));
    assert.deepEqual(
      await engine.handle(nalo('s7', '', true)),
      first,
      'a copy of the dial within the window',
    );
    await engine.handle(nalo('s7', '4826'));
    const ended = await engine.handle(nalo('s7', '2'));
    assert.equal(ended.continue, false);
    const again = await engine.handle(nalo('s7', '', true));
    assert.deepEqual(again, first, 'dialling again starts over at the PIN screen');
    assert.equal((await engine.handle(nalo('s7', '4826'))).continue, true);
  });

  it('ends a slow step with the busy screen and sends its outcome by SMS', async () => {
    const { engine, sms, effects } = world({ budgetMs: 500, slowMs: 1500 });
    await engine.handle(at('s6', ''));
    await engine.handle(at('s6', '4826'));
    await engine.handle(at('s6', '4826*1'));
    const busy = await engine.handle(at('s6', '4826*1*20'));
    assert.deepEqual(busy, { continue: false, message: 'Service busy, you will receive an SMS.' });
    await new Promise((resolve) => setTimeout(resolve, 1300));
    assert.deepEqual(sms, ['Paid 2000.']);
    assert.equal(effects.length, 1);
    const retry = await engine.handle(at('s6', '4826*1*20'));
    assert.deepEqual(retry, busy);
  });
});
