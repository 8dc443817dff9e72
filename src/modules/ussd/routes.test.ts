/**
 * The USSD HTTP routes: each gateway's callback in its wire format (with a recording engine in a bare app, then the
 * real engine through the whole application), the secret and the allowlist, the never-500 rule, the redacted
 * secret, and Africa's Talking's end-of-session reports with their staff list and summary.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import pino from 'pino';
import { bearer, LogCapture, startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { digitsStandAlone } from '../../../test/helpers/secrets.ts';
import { GATEWAY_NAMES, USSD_TEST_SECRET, ussdConfig, ussdDriver } from '../../../test/helpers/ussd.ts';
import { parseVariables } from '../../platform/config-spec.ts';
import { registerErrorHandling } from '../../platform/errors.ts';
import { loggerOptions } from '../../platform/logging.ts';
import { registerJsonParser } from '../../platform/validation.ts';
import type { UssdReply, UssdRequest } from './ussd.gateway.types.ts';
import { type GatewayConfigValues, gatewayConfig } from './ussd.gateways.config.ts';
import { UssdReports } from './ussd.reports.ts';
import { UNAVAILABLE_MESSAGE, ussdGatewayRoutes } from './ussd.routes.ts';

const form = { 'content-type': 'application/x-www-form-urlencoded' };
const jsonType = { 'content-type': 'application/json' };

const atStep = (text: string, sessionId = 'ATUid_route') =>
  new URLSearchParams({
    sessionId,
    serviceCode: '*384*123#',
    phoneNumber: '+254712345678',
    networkCode: '63902',
    text,
  }).toString();

const bodies = {
  hubtel: {
    Type: 'Response',
    Message: '2',
    ServiceCode: '713*2',
    Operator: 'mtn',
    ClientState: '',
    Mobile: '233246912184',
    SessionId: 'hub-1',
    Sequence: 2,
  },
  arkesel: {
    sessionID: 'ark-1',
    userID: 'cf',
    newSession: false,
    msisdn: '233246912184',
    userData: '2',
    network: 'MTN',
  },
  nalo: { USERID: 'nalo-1', MSISDN: '233246912184', MSGTYPE: false, USERDATA: '2', NETWORK: 'MTN' },
};

describe('USSD routes', () => {
  let t: TestContext;
  let reports: UssdReports;
  const seen: UssdRequest[] = [];
  let answer: (request: UssdRequest) => Promise<UssdReply> = async () => ({
    continue: true,
    message: 'Menu',
  });
  const engine = {
    handle: (request: UssdRequest) => {
      seen.push(request);
      return answer(request);
    },
  };
  const logs = new LogCapture();

  async function bareApp(env: Record<string, string>, production: boolean): Promise<FastifyInstance> {
    const problems: string[] = [];
    const values = parseVariables(gatewayConfig, env, problems) as unknown as GatewayConfigValues;
    assert.deepEqual(problems, []);
    const { stream, ...options } = loggerOptions('info', logs);
    const app = Fastify({ loggerInstance: pino(options, stream) as FastifyBaseLogger });
    registerJsonParser(app);
    registerErrorHandling(app);
    await app.register(ussdGatewayRoutes(engine, { ...values, PRODUCTION: production }, reports));
    await app.ready();
    return app;
  }

  let app: FastifyInstance;
  before(async () => {
    t = await startTestApp(ussdConfig());
    reports = new UssdReports(t.deps.database.db);
    app = await bareApp(
      {
        USSD_AT_SECRET: 'at-current,at-previous',
        USSD_HUBTEL_SECRET: 'hubtel-secret',
        USSD_ARKESEL_SECRET: 'arkesel-secret',
        USSD_NALO_SECRET: 'nalo-secret',
        USSD_NALO_ALLOWED_IPS: '196.201.214.0/24',
      },
      true,
    );
  });
  after(async () => {
    await app?.close();
    await t?.close();
  });

  test("Africa's Talking: a form in, CON/END text out; the path reaches the engine as sent", async () => {
    answer = async () => ({ continue: true, message: 'Enter PIN' });
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/ussd/at/at-current',
      headers: form,
      payload: atStep('1*07*12'),
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.match(String(response.headers['content-type']), /^text\/plain/);
    assert.equal(response.body, 'CON Enter PIN');
    const request = seen.at(-1)!;
    assert.deepEqual(
      [request.gateway, request.msisdn, request.input, request.isNew],
      ['at', '+254712345678', { path: '1*07*12' }, false],
    );
    answer = async () => ({ continue: false, message: 'Goodbye' });
    const end = await app.inject({
      method: 'POST',
      url: '/api/v1/ussd/at/at-previous',
      headers: form,
      payload: atStep(''),
    });
    assert.equal(end.body, 'END Goodbye', 'the previous secret of a rotation is still accepted');
    const withCharset = await app.inject({
      method: 'POST',
      url: '/api/v1/ussd/at/at-current',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=UTF-8' },
      payload: atStep('2*1'),
    });
    assert.equal(withCharset.statusCode, 200, withCharset.body);
    assert.deepEqual(seen.at(-1)!.input, { path: '2*1' });
    // The application answers a path parameter beyond the router's limit as NOT_FOUND too.
    const tooLong = await t.app.inject({
      method: 'POST',
      url: `/api/v1/ussd/at/${'x'.repeat(150)}`,
      headers: form,
      payload: atStep(''),
    });
    assert.equal(tooLong.statusCode, 404, 'a secret longer than any is the same 404');
  });

  test('Hubtel, Arkesel and Nalo: JSON in, JSON out in their formats', async () => {
    answer = async () => ({ continue: true, message: 'Amount?' });
    const hubtel = await app.inject({
      method: 'POST',
      url: '/api/v1/ussd/hubtel/hubtel-secret',
      headers: jsonType,
      payload: bodies.hubtel,
    });
    assert.equal(hubtel.statusCode, 200, hubtel.body);
    assert.match(String(hubtel.headers['content-type']), /^application\/json/);
    assert.deepEqual(
      [hubtel.json().SessionId, hubtel.json().Type, hubtel.json().Message, hubtel.json().DataType],
      ['hub-1', 'response', 'Amount?', 'input'],
    );
    assert.deepEqual([seen.at(-1)!.sequence, seen.at(-1)!.input], [2, { latest: '2' }]);

    const arkesel = await app.inject({
      method: 'POST',
      url: '/api/v1/ussd/arkesel/arkesel-secret',
      headers: jsonType,
      payload: bodies.arkesel,
    });
    assert.deepEqual(arkesel.json(), {
      sessionID: 'ark-1',
      userID: 'cf',
      msisdn: '233246912184',
      continueSession: true,
      message: 'Amount?',
    });

    const nalo = await app.inject({
      method: 'POST',
      url: '/api/v1/ussd/nalo/nalo-secret',
      headers: jsonType,
      payload: bodies.nalo,
      remoteAddress: '196.201.214.9',
    });
    assert.deepEqual(nalo.json(), {
      USERID: 'nalo-1',
      MSISDN: '233246912184',
      MSGTYPE: true,
      MSG: 'Amount?',
    });
  });

  test('a wrong secret, an unknown gateway and a gateway switched off all answer the same 404', async () => {
    const before = seen.length;
    for (const url of [
      '/api/v1/ussd/at/wrong',
      '/api/v1/ussd/at/at-current-and-more',
      '/api/v1/ussd/hubtel/at-current',
      '/api/v1/ussd/smpp/at-current',
      '/api/v1/ussd/at/dev-ussd-secret',
    ]) {
      const response = await app.inject({ method: 'POST', url, headers: form, payload: atStep('') });
      assert.equal(response.statusCode, 404, url);
      assert.equal(response.json().error_code, 'NOT_FOUND');
    }
    // In production an unset secret switches the gateway off, dev-ussd-secret included.
    const off = await bareApp({}, true);
    const offResponse = await off.inject({
      method: 'POST',
      url: '/api/v1/ussd/at/dev-ussd-secret',
      headers: form,
      payload: atStep(''),
    });
    assert.equal(offResponse.statusCode, 404);
    await off.close();
    // Outside production it is the well-known development secret.
    const dev = await bareApp({}, false);
    const devResponse = await dev.inject({
      method: 'POST',
      url: '/api/v1/ussd/arkesel/dev-ussd-secret',
      headers: jsonType,
      payload: bodies.arkesel,
    });
    assert.equal(devResponse.statusCode, 200, devResponse.body);
    await dev.close();
    assert.equal(seen.length, before + 1, 'only the admitted request reached the engine');
  });

  test('outside the allowlist: 403 after the secret is checked', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/ussd/nalo/nalo-secret',
      headers: jsonType,
      payload: bodies.nalo,
      remoteAddress: '10.0.0.7',
    });
    assert.equal(response.statusCode, 403);
    assert.equal(response.json().error_code, 'USSD_GATEWAY_ADDRESS_NOT_ALLOWED');
    const wrongSecret = await app.inject({
      method: 'POST',
      url: '/api/v1/ussd/nalo/wrong',
      headers: jsonType,
      payload: bodies.nalo,
      remoteAddress: '10.0.0.7',
    });
    assert.equal(wrongSecret.statusCode, 404);
  });

  test('malformed bodies are a 400 standard error, never a 500', async () => {
    const cases = [
      { url: '/api/v1/ussd/at/at-current', headers: form, payload: 'sessionId=x&text=' },
      { url: '/api/v1/ussd/at/at-current', headers: jsonType, payload: '[1,2]' },
      { url: '/api/v1/ussd/hubtel/hubtel-secret', headers: jsonType, payload: '{"Type":"Nope"}' },
      { url: '/api/v1/ussd/hubtel/hubtel-secret', headers: jsonType, payload: '"text"' },
      { url: '/api/v1/ussd/arkesel/arkesel-secret', headers: form, payload: 'sessionID=1' },
      { url: '/api/v1/ussd/hubtel/hubtel-secret', headers: jsonType, payload: '{"Type":' },
    ];
    for (const request of cases) {
      const response = await app.inject({ method: 'POST', ...request });
      assert.equal(response.statusCode, 400, `${request.payload}: ${response.body}`);
      assert.match(response.json().error_code, /^(USSD_GATEWAY_REQUEST_INVALID|MALFORMED_REQUEST)$/);
      assert.equal(typeof response.json().request_id, 'string');
    }
  });

  test('an engine failure is logged and answered 200 with an END notice in the gateway’s format', async () => {
    answer = async () => {
      throw new Error('redis went away');
    };
    const at = await app.inject({
      method: 'POST',
      url: '/api/v1/ussd/at/at-current',
      headers: form,
      payload: atStep('1'),
    });
    assert.equal(at.statusCode, 200);
    assert.equal(at.body, `END ${UNAVAILABLE_MESSAGE}`);
    const hubtel = await app.inject({
      method: 'POST',
      url: '/api/v1/ussd/hubtel/hubtel-secret',
      headers: jsonType,
      payload: bodies.hubtel,
    });
    assert.deepEqual(
      [hubtel.statusCode, hubtel.json().Type, hubtel.json().Message],
      [200, 'release', UNAVAILABLE_MESSAGE],
    );
    assert.match(logs.text, /redis went away/);
    answer = async () => ({ continue: true, message: 'Menu' });
  });

  test('the secret path segment never reaches the logs', async () => {
    assert.ok(logs.lines.length > 0);
    for (const secret of ['at-current', 'at-previous', 'hubtel-secret', 'arkesel-secret', 'nalo-secret'])
      assert.equal(logs.text.includes(secret), false, `${secret} is logged`);
    assert.match(logs.text, /\/api\/v1\/ussd\/at\/\[REDACTED\]/);
  });

  test('end-of-session notifications are stored once, without the input, and summed for staff', async () => {
    const notify = (fields: Record<string, string>, secret = USSD_TEST_SECRET) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/ussd/at/${secret}/events`,
        headers: form,
        payload: new URLSearchParams(fields).toString(),
      });
    const day = new Date().toISOString().slice(0, 10);
    const base = {
      date: `${day} 08:10:23`,
      serviceCode: '*384*123#',
      networkCode: '63902',
      phoneNumber: '+254712345678',
      hopsCount: '4',
      input: '1*4826*2',
      lastAppResponse: 'END Your balance is KES 1,000.00',
      errorMessage: '',
    };
    const first = await notify({
      ...base,
      sessionId: 'ATUid_report_1',
      status: 'Success',
      cost: 'KES 0.10',
      durationInMillis: '12000',
    });
    assert.equal(first.statusCode, 200, first.body);
    assert.equal(first.body, '');
    const again = await notify({
      ...base,
      sessionId: 'ATUid_report_1',
      status: 'Success',
      cost: 'KES 0.10',
      durationInMillis: '12000',
    });
    assert.equal(again.statusCode, 200);
    await notify({
      ...base,
      sessionId: 'ATUid_report_2',
      status: 'Failed',
      cost: 'KES 0.05',
      durationInMillis: '3000',
    });
    await notify({
      ...base,
      sessionId: 'ATUid_report_3',
      status: 'Incomplete',
      cost: 'USD 0.001',
      durationInMillis: '6001',
    });
    assert.equal((await notify({ ...base, sessionId: 'x', status: 'Success' }, 'wrong')).statusCode, 404);
    assert.equal((await notify({ ...base, status: 'Success' })).statusCode, 400, 'no sessionId');

    const list = await t.app.inject({
      method: 'GET',
      url: '/api/v1/ussd/reports?limit=2',
      headers: bearer(t.adminToken),
    });
    assert.equal(list.statusCode, 200, list.body);
    assert.equal(list.json().items.length, 2);
    const next = await t.app.inject({
      method: 'GET',
      url: `/api/v1/ussd/reports?limit=2&cursor=${list.json().next_cursor}`,
      headers: bearer(t.adminToken),
    });
    const all = [...list.json().items, ...next.json().items];
    assert.deepEqual(all.map((item) => item.session_id).sort(), [
      'ATUid_report_1',
      'ATUid_report_2',
      'ATUid_report_3',
    ]);
    const stored = all.find((item) => item.session_id === 'ATUid_report_1');
    assert.deepEqual(
      [
        stored.status,
        stored.cost_minor,
        stored.cost_currency,
        stored.duration_ms,
        stored.hops_count,
        stored.phone_number,
      ],
      ['success', 10, 'KES', 12000, 4, '+254712345678'],
    );
    assert.equal(stored.occurred_at, `${day}T08:10:23.000Z`);
    const raw = JSON.stringify(await t.deps.database.db.execute('select * from ussd_session_reports'));
    assert.equal(digitsStandAlone(raw, '4826').found, false, 'the input (with its PIN) is not stored');
    assert.equal(raw.includes('1,000.00'), false, 'the last screen is not stored');

    const failed = await t.app.inject({
      method: 'GET',
      url: `/api/v1/ussd/reports?status=Failed&from=${day}&to=${day}`,
      headers: bearer(t.adminToken),
    });
    assert.deepEqual(
      failed.json().items.map((item: { session_id: string }) => item.session_id),
      ['ATUid_report_2'],
    );

    const summary = await t.app.inject({
      method: 'GET',
      url: `/api/v1/ussd/reports/summary?from=${day}&to=${day}`,
      headers: bearer(t.adminToken),
    });
    assert.equal(summary.statusCode, 200, summary.body);
    assert.deepEqual(summary.json(), {
      from: day,
      to: day,
      sessions: 3,
      by_status: [
        { status: 'failed', sessions: 1 },
        { status: 'incomplete', sessions: 1 },
        { status: 'success', sessions: 1 },
      ],
      average_duration_ms: 7000,
      cost: [{ currency: 'KES', total_minor: 15 }],
      unpriced_sessions: 1,
    });
    const backwards = await t.app.inject({
      method: 'GET',
      url: '/api/v1/ussd/reports/summary?from=2026-02-01&to=2026-01-01',
      headers: bearer(t.adminToken),
    });
    assert.equal(backwards.statusCode, 422);
    for (const url of [
      '/api/v1/ussd/reports?from=2026-02-30',
      '/api/v1/ussd/reports/summary?to=2026-13-01',
    ]) {
      const impossible = await t.app.inject({ method: 'GET', url, headers: bearer(t.adminToken) });
      assert.equal(impossible.statusCode, 422, `${url}: ${impossible.body}`);
    }
    assert.equal((await t.app.inject({ method: 'GET', url: '/api/v1/ussd/reports' })).statusCode, 401);
  });

  test('through the whole application, each gateway shows an unknown number the registration welcome', async () => {
    for (const [index, gateway] of GATEWAY_NAMES.entries()) {
      const driver = ussdDriver(t, { phone: `+25471234${String(5600 + index)}`, gateway });
      const screen = await driver.start();
      assert.equal(screen.status, 200, `${gateway}: ${screen.message}`);
      assert.equal(screen.continue, true, `${gateway}: ${screen.message}`);
      assert.match(screen.message, /Welcome/, gateway);
      assert.ok(screen.message.length <= 160, screen.message);
    }
    assert.equal(
      t.logs.text.includes(USSD_TEST_SECRET),
      false,
      'the secret is redacted in the application logs',
    );
  });
});
