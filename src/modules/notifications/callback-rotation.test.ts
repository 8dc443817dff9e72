/**
 * Callback secrets rotate without dropping deliveries (RELIABILITY.md property 22, "secret rotation"): while both are
 * configured, reports signed with the previous Twilio token, the previous SendGrid key or sent to the previous
 * Africa's Talking path are accepted; anything else is refused and records nothing.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { stringify } from 'node:querystring';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { type FakeSendGrid, startFakeSendGrid } from '../../../test/fakes/sendgrid.ts';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { twilioSignature } from '../../integrations/twilio/twilio.signature.ts';

const BASE = 'https://api.bank.test';

describe('callback secrets during a rotation', () => {
  let t: TestContext;
  let currentKey: FakeSendGrid;
  let previousKey: FakeSendGrid;
  let strangerKey: FakeSendGrid;

  before(async () => {
    [currentKey, previousKey, strangerKey] = await Promise.all([
      startFakeSendGrid({ apiKey: 'SG.a' }),
      startFakeSendGrid({ apiKey: 'SG.b' }),
      startFakeSendGrid({ apiKey: 'SG.c' }),
    ]);
    t = await startTestApp({
      PUBLIC_BASE_URL: BASE,
      TWILIO_ACCOUNT_SID: 'AC00000000000000000000000000000000',
      TWILIO_AUTH_TOKEN: 'token-now',
      TWILIO_AUTH_TOKEN_PREVIOUS: 'token-before',
      SENDGRID_WEBHOOK_PUBLIC_KEY: `${currentKey.publicKeyBase64},${previousKey.publicKeyBase64}`,
      AFRICASTALKING_CALLBACK_SECRET: 'path-now,path-before',
    });
  });
  after(async () => {
    await t?.close();
    await Promise.all([currentKey, previousKey, strangerKey].map((fake) => fake?.close()));
  });

  async function reports(): Promise<number> {
    const result = (await t.deps.database.db.execute(
      sql`select count(*)::int as n from notification_delivery_reports`,
    )) as unknown as { rows: { n: number }[] };
    return result.rows[0]!.n;
  }

  test('Twilio: current and previous tokens verify; another token does not', async () => {
    const path = '/api/v1/notify/callback/twilio';
    const post = (token: string, sid: string) => {
      const fields = {
        MessageSid: sid,
        SmsSid: sid,
        MessageStatus: 'delivered',
        AccountSid: 'AC0',
        To: '+254711000001',
      };
      return t.app.inject({
        method: 'POST',
        url: path,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': twilioSignature(token, `${BASE}${path}`, fields),
        },
        payload: stringify(fields),
      });
    };
    const before = await reports();
    assert.equal((await post('token-now', 'SM1')).statusCode, 200);
    assert.equal((await post('token-before', 'SM2')).statusCode, 200);
    const forged = await post('token-someone-else', 'SM3');
    assert.equal(forged.statusCode, 403, forged.body);
    assert.equal(forged.json().error_code, 'FORBIDDEN');
    assert.equal(await reports(), before + 2);
  });

  test("Africa's Talking: both paths work; a third is a 404", async () => {
    const post = (secret: string) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/notify/callback/africastalking/${secret}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: stringify({ id: `ATXid_${randomUUID()}`, status: 'Success', phoneNumber: '+254711000001' }),
      });
    const before = await reports();
    assert.equal((await post('path-now')).statusCode, 200);
    assert.equal((await post('path-before')).statusCode, 200);
    assert.equal((await post('path-now,path-before')).statusCode, 404);
    assert.equal((await post('path')).statusCode, 404);
    assert.equal(await reports(), before + 2);
  });

  test('SendGrid: batches signed with either configured key verify; a stranger key does not', async () => {
    const post = (fake: FakeSendGrid) => {
      const event = {
        email: 'a@bank.test',
        timestamp: Math.floor(Date.now() / 1000),
        event: 'delivered',
        sg_event_id: randomUUID(),
        sg_message_id: `${randomUUID()}.filter0001`,
      };
      const signed = fake.signEvents([event]);
      return t.app.inject({
        method: 'POST',
        url: '/api/v1/notify/callback/sendgrid',
        headers: signed.headers,
        payload: signed.body,
      });
    };
    const before = await reports();
    assert.equal((await post(currentKey)).statusCode, 200);
    assert.equal((await post(previousKey)).statusCode, 200);
    assert.equal((await post(strangerKey)).statusCode, 403);
    assert.equal(await reports(), before + 2);
  });
});
