/** Forgotten PIN: a code to the registered phone, the ID number when one is on file, and the lock lifted. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, desc, eq } from 'drizzle-orm';
import { bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { type Envelope, openEnvelope } from '../../platform/crypto.ts';
import { outboxEvents } from '../../platform/platform.tables.ts';

describe('PIN reset with a one-time code', () => {
  let t: TestContext;
  const ids: Record<string, string> = {};

  before(async () => {
    t = await startTestApp({ PIN_MAX_FAILURES: '3' });
    for (const [name, phone, nationalId] of [
      ['withid', '+254766000001', '12345678'],
      ['noid', '+254766000002', null],
      ['wrongid', '+254766000003', '87654321'],
    ] as const) {
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/customer/customer/add',
        headers: bearer(t.adminToken),
        payload: {
          first_name: name,
          last_name: 'Test',
          phone,
          ...(nationalId ? { national_id_type: 'national_id', national_id: nationalId } : {}),
        },
      });
      assert.equal(created.statusCode, 201, created.body);
      ids[name] = created.json().id;
      await t.app.inject({
        method: 'POST',
        url: '/api/v1/customer/credentials/pin',
        headers: bearer(t.adminToken),
        payload: { customer_id: ids[name], pin: '5827' },
      });
    }
  });
  after(async () => t.close());

  const request = (phone: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/customer/pin/reset/request', payload: { phone } });
  const confirm = (payload: object) =>
    t.app.inject({ method: 'POST', url: '/api/v1/customer/pin/reset/confirm', payload });
  const login = (phone: string, pin: string) =>
    t.app.inject({ method: 'POST', url: '/api/v1/auth/customer/login', payload: { phone, pin } });

  async function codeFor(customerId: string, challengeId: string): Promise<string> {
    const rows = await t.deps.database.db
      .select()
      .from(outboxEvents)
      .where(and(eq(outboxEvents.topic, 'otp.requested'), eq(outboxEvents.aggregateId, customerId)))
      .orderBy(desc(outboxEvents.id));
    const event = rows.find((row) => row.payload.challenge_id === challengeId);
    assert.ok(event);
    return openEnvelope(
      t.deps.keys,
      JSON.parse(String(event.payload.code_sealed)) as Envelope,
      `otp:${challengeId}`,
    ).toString();
  }

  test('a locked customer resets with the code and the ID number, then signs in', async () => {
    for (let attempt = 0; attempt < 3; attempt += 1) await login('+254766000001', '9137');
    assert.equal((await login('+254766000001', '5827')).statusCode, 423);
    const asked = await request('+254766000001');
    assert.equal(asked.statusCode, 202, asked.body);
    const { challenge_id } = asked.json();
    const code = await codeFor(ids.withid!, challenge_id);
    const done = await confirm({
      phone: '+254766000001',
      challenge_id,
      code,
      new_pin: '4826',
      national_id: '1234-5678',
    });
    assert.equal(done.statusCode, 204, done.body);
    assert.equal((await login('+254766000001', '4826')).statusCode, 200);
    const reused = await confirm({
      phone: '+254766000001',
      challenge_id,
      code,
      new_pin: '7391',
      national_id: '12345678',
    });
    assert.equal(reused.statusCode, 401, 'a code works once');
  });

  test('without the ID number on file, the code alone resets (to a PIN that is not guessable)', async () => {
    const asked = await request('+254766000002');
    const { challenge_id } = asked.json();
    const code = await codeFor(ids.noid!, challenge_id);
    const weak = await confirm({ phone: '+254766000002', challenge_id, code, new_pin: '1999' });
    assert.equal(weak.statusCode, 422, weak.body);
    assert.equal(weak.json().error_code, 'WEAK_PIN', 'a forgotten-PIN reset refuses a guessable PIN too');
    const done = await confirm({ phone: '+254766000002', challenge_id, code, new_pin: '4826' });
    assert.equal(done.statusCode, 204, done.body);
  });

  test('a wrong ID number refuses the reset and uses the code up', async () => {
    const asked = await request('+254766000003');
    const { challenge_id } = asked.json();
    const code = await codeFor(ids.wrongid!, challenge_id);
    const wrong = await confirm({
      phone: '+254766000003',
      challenge_id,
      code,
      new_pin: '4826',
      national_id: '11111111',
    });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.json().error_code, 'IDENTITY_MISMATCH');
    assert.equal((await login('+254766000003', '5827')).statusCode, 200, 'the old PIN still works');
  });

  test('unknown numbers get the same answer and no message; resends wait for the cooldown', async () => {
    const unknown = await request('+254766999999');
    assert.equal(unknown.statusCode, 202);
    assert.deepEqual(Object.keys(unknown.json()).sort(), ['challenge_id', 'expires_at']);
    const again = await request('+254766999999');
    assert.equal(again.statusCode, 429);
    assert.ok(Number(again.headers['retry-after']) >= 1);
    const guess = await confirm({
      phone: '+254766999999',
      challenge_id: unknown.json().challenge_id,
      code: '123456',
      new_pin: '4826',
    });
    assert.equal(guess.statusCode, 401);
  });
});
