/** The gateway adapters' wire formats and the gateway configuration (pure: no database). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseVariables } from '../../platform/config-spec.ts';
import { AppError } from '../../platform/errors.ts';
import type { UssdRequest } from './ussd.gateway.types.ts';
import {
  addressAllowed,
  DEV_USSD_SECRET,
  type GatewayConfigValues,
  gatewayConfig,
  gatewaySettings,
  secretMatches,
} from './ussd.gateways.config.ts';
import { africasTalking, arkesel, gatewayAdapters, hubtel, nalo } from './ussd.gateways.ts';
import { parseCost, parseGatewayDate } from './ussd.reports.ts';

function refused(run: () => unknown, field: string) {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof AppError, String(error));
    assert.equal(error.statusCode, 400);
    assert.equal(error.errorCode, 'USSD_GATEWAY_REQUEST_INVALID');
    assert.equal((error.details as { field: string }).field, field);
    return true;
  });
}

const atForm = {
  sessionId: 'ATUid_1',
  serviceCode: '*384*123#',
  phoneNumber: '+254712345678',
  networkCode: '63902',
  text: '',
};

describe("Africa's Talking", () => {
  test('the first hit is a new session with an empty path', () => {
    assert.deepEqual(africasTalking.parse(atForm), {
      gateway: 'at',
      sessionId: 'ATUid_1',
      msisdn: '+254712345678',
      serviceCode: '*384*123#',
      network: '63902',
      isNew: true,
      input: { path: '' },
      sequence: null,
      closed: false,
    } satisfies UssdRequest);
  });

  test('the path is kept exactly as sent, a `*` inside an input included', () => {
    const request = africasTalking.parse({ ...atForm, text: '1*2*07*12*345' });
    assert.equal(request.isNew, false);
    assert.deepEqual(request.input, { path: '1*2*07*12*345' });
    assert.deepEqual(africasTalking.parse({ ...atForm, text: '*' }).input, { path: '*' });
  });

  test('renders CON and END as text/plain', () => {
    const request = africasTalking.parse(atForm);
    assert.deepEqual(africasTalking.render(request, { continue: true, message: 'Welcome\n1. Balance' }), {
      contentType: 'text/plain; charset=utf-8',
      body: 'CON Welcome\n1. Balance',
    });
    assert.equal(africasTalking.render(request, { continue: false, message: 'Bye' }).body, 'END Bye');
  });

  test('a phone without + or with 00 is normalised; a malformed body is a 400 naming the field', () => {
    assert.equal(africasTalking.parse({ ...atForm, phoneNumber: '254712345678' }).msisdn, '+254712345678');
    assert.equal(africasTalking.parse({ ...atForm, phoneNumber: '00254712345678' }).msisdn, '+254712345678');
    refused(() => africasTalking.parse(undefined), 'body');
    refused(() => africasTalking.parse('sessionId=1'), 'body');
    refused(() => africasTalking.parse([atForm]), 'body');
    refused(() => africasTalking.parse({ ...atForm, sessionId: '' }), 'sessionId');
    refused(() => africasTalking.parse({ ...atForm, sessionId: ['a', 'b'] }), 'sessionId');
    refused(() => africasTalking.parse({ ...atForm, phoneNumber: 'not a phone' }), 'phoneNumber');
    refused(() => africasTalking.parse({ ...atForm, phoneNumber: '+1234' }), 'phoneNumber');
    refused(() => africasTalking.parse({ ...atForm, text: 'x'.repeat(2001) }), 'text');
    refused(() => africasTalking.parse({ ...atForm, text: '1\u0000' }), 'text');
    refused(() => africasTalking.parse({ ...atForm, sessionId: 's'.repeat(201) }), 'sessionId');
  });
});

const hubtelBody = {
  Type: 'Initiation',
  Message: '*713*2#',
  ServiceCode: '713*2',
  Operator: 'mtn',
  ClientState: '',
  Mobile: '233246912184',
  SessionId: '8d44f1',
  Sequence: 1,
};

describe('Hubtel', () => {
  test('Initiation is a new session whose dialled string is not an input', () => {
    assert.deepEqual(hubtel.parse(hubtelBody), {
      gateway: 'hubtel',
      sessionId: '8d44f1',
      msisdn: '+233246912184',
      serviceCode: '713*2',
      network: 'mtn',
      isNew: true,
      input: { latest: '' },
      sequence: 1,
      closed: false,
    } satisfies UssdRequest);
  });

  test('Response carries the latest input and the Sequence; Release and Timeout close', () => {
    const step = hubtel.parse({ ...hubtelBody, Type: 'Response', Message: '1*2', Sequence: 3 });
    assert.deepEqual(
      [step.isNew, step.input, step.sequence, step.closed],
      [false, { latest: '1*2' }, 3, false],
    );
    for (const type of ['Release', 'Timeout', 'timeout'])
      assert.equal(hubtel.parse({ ...hubtelBody, Type: type, Sequence: 4 }).closed, true);
    assert.equal(hubtel.parse({ ...hubtelBody, Sequence: '2' }).sequence, 2);
  });

  test('renders response/input and release/display, echoing ClientState', () => {
    const request = hubtel.parse({ ...hubtelBody, ClientState: 'abc' });
    const next = hubtel.render(request, { continue: true, message: 'Enter PIN' });
    assert.equal(next.contentType, 'application/json; charset=utf-8');
    assert.deepEqual(JSON.parse(next.body), {
      SessionId: '8d44f1',
      Type: 'response',
      Message: 'Enter PIN',
      Label: 'Enter PIN',
      DataType: 'input',
      FieldType: 'text',
      ClientState: 'abc',
    });
    const end = JSON.parse(hubtel.render(request, { continue: false, message: 'Done\nThanks' }).body);
    assert.deepEqual(
      [end.Type, end.DataType, end.Label, end.Message],
      ['release', 'display', 'Done', 'Done\nThanks'],
    );
  });

  test('malformed bodies are a 400 naming the field', () => {
    refused(() => hubtel.parse(null), 'body');
    refused(() => hubtel.parse({ ...hubtelBody, Type: 'Start' }), 'Type');
    refused(() => hubtel.parse({ ...hubtelBody, Type: undefined }), 'Type');
    refused(() => hubtel.parse({ ...hubtelBody, Sequence: 'x' }), 'Sequence');
    refused(() => hubtel.parse({ ...hubtelBody, Sequence: undefined }), 'Sequence');
    refused(() => hubtel.parse({ ...hubtelBody, Mobile: undefined }), 'Mobile');
    refused(() => hubtel.parse({ ...hubtelBody, SessionId: { id: 1 } }), 'SessionId');
    refused(() => hubtel.parse({ ...hubtelBody, Message: 12.5 }), 'Message');
  });
});

const arkeselBody = {
  sessionID: 'ark-1',
  userID: 'codeforge',
  newSession: true,
  msisdn: '233246912184',
  userData: '*920*1#',
  network: 'MTN',
};

describe('Arkesel', () => {
  test('a new session ignores the dialled string; a step carries the latest input', () => {
    const first = arkesel.parse(arkeselBody);
    assert.deepEqual(
      [first.gateway, first.sessionId, first.msisdn, first.network, first.isNew, first.input],
      ['arkesel', 'ark-1', '+233246912184', 'MTN', true, { latest: '' }],
    );
    const step = arkesel.parse({ ...arkeselBody, newSession: false, userData: '2' });
    assert.deepEqual(
      [step.isNew, step.input, step.sequence, step.closed],
      [false, { latest: '2' }, null, false],
    );
    assert.equal(arkesel.parse({ ...arkeselBody, newSession: 'false', userData: '3' }).isNew, false);
  });

  test('the reply echoes sessionID, userID and msisdn as sent', () => {
    const request = arkesel.parse(arkeselBody);
    assert.deepEqual(JSON.parse(arkesel.render(request, { continue: true, message: 'Menu' }).body), {
      sessionID: 'ark-1',
      userID: 'codeforge',
      msisdn: '233246912184',
      continueSession: true,
      message: 'Menu',
    });
    assert.equal(
      JSON.parse(arkesel.render(request, { continue: false, message: 'Bye' }).body).continueSession,
      false,
    );
  });

  test('malformed bodies are a 400 naming the field', () => {
    refused(() => arkesel.parse({ ...arkeselBody, newSession: 'yes' }), 'newSession');
    refused(() => arkesel.parse({ ...arkeselBody, newSession: undefined }), 'newSession');
    refused(() => arkesel.parse({ ...arkeselBody, sessionID: undefined }), 'sessionID');
    refused(() => arkesel.parse({ ...arkeselBody, msisdn: '233' }), 'msisdn');
  });
});

const naloBody = {
  USERID: 'nalo-acct',
  MSISDN: '233246912184',
  MSGTYPE: true,
  USERDATA: '*920*1#',
  NETWORK: 'MTN',
};

describe('Nalo', () => {
  test('the session is the account and the msisdn; MSGTYPE true starts it', () => {
    const first = nalo.parse(naloBody);
    assert.deepEqual(
      [first.sessionId, first.msisdn, first.isNew, first.input, first.network],
      ['nalo-acct:+233246912184', '+233246912184', true, { latest: '' }, 'MTN'],
    );
    const step = nalo.parse({ ...naloBody, MSGTYPE: false, USERDATA: '1' });
    assert.deepEqual(
      [step.sessionId, step.isNew, step.input],
      ['nalo-acct:+233246912184', false, { latest: '1' }],
    );
  });

  test('the reply echoes USERID and MSISDN; MSGTYPE says whether the session continues', () => {
    const request = nalo.parse(naloBody);
    assert.deepEqual(JSON.parse(nalo.render(request, { continue: true, message: 'Menu' }).body), {
      USERID: 'nalo-acct',
      MSISDN: '233246912184',
      MSGTYPE: true,
      MSG: 'Menu',
    });
    assert.equal(JSON.parse(nalo.render(request, { continue: false, message: 'Bye' }).body).MSGTYPE, false);
  });

  test('malformed bodies are a 400 naming the field', () => {
    refused(() => nalo.parse({ ...naloBody, MSGTYPE: 1 }), 'MSGTYPE');
    refused(() => nalo.parse({ ...naloBody, USERID: '' }), 'USERID');
    refused(() => nalo.parse({ ...naloBody, MSISDN: true }), 'MSISDN');
  });
});

test('every gateway has its adapter and its session timeout', () => {
  assert.deepEqual(
    Object.values(gatewayAdapters).map((adapter) => [adapter.gateway, adapter.sessionTtlSeconds]),
    [
      ['at', 180],
      ['hubtel', 120],
      ['arkesel', 120],
      ['nalo', 120],
    ],
  );
});

describe('gateway configuration', () => {
  const parse = (env: Record<string, string>) => {
    const problems: string[] = [];
    const values = parseVariables(gatewayConfig, env, problems) as unknown as GatewayConfigValues;
    return { values, problems };
  };

  test('defaults: no secret, any address, the gateway’s own timeout', () => {
    const { values, problems } = parse({});
    assert.deepEqual(problems, []);
    assert.equal(values.USSD_AT_SECRET, undefined);
    assert.equal(values.USSD_AT_SESSION_TTL_SECONDS, 180);
    assert.equal(values.USSD_HUBTEL_SESSION_TTL_SECONDS, 120);
    assert.equal(values.USSD_NALO_ALLOWED_IPS, undefined);
  });

  test('refuses secrets that cannot be a path segment, bad addresses and timeouts', () => {
    const { problems } = parse({
      USSD_AT_SECRET: 'a/b',
      USSD_HUBTEL_ALLOWED_IPS: '10.0.0.0/33',
      USSD_ARKESEL_ALLOWED_IPS: 'example.com',
      USSD_NALO_SESSION_TTL_SECONDS: '5',
    });
    assert.equal(problems.length, 4, problems.join('\n'));
  });

  test('unset secret: off in production, dev-ussd-secret otherwise; the dev secret is ignored in production', () => {
    const { values } = parse({});
    assert.deepEqual(gatewaySettings({ ...values, PRODUCTION: true }, 'at').secrets, []);
    assert.deepEqual(gatewaySettings({ ...values, PRODUCTION: false }, 'at').secrets, [DEV_USSD_SECRET]);
    const dev = parse({ USSD_AT_SECRET: DEV_USSD_SECRET }).values;
    assert.deepEqual(gatewaySettings({ ...dev, PRODUCTION: true }, 'at').secrets, []);
  });

  test('a rotation accepts the current and the previous secret, nothing else', () => {
    const { values } = parse({ USSD_HUBTEL_SECRET: 'current-secret,previous-secret' });
    const settings = gatewaySettings({ ...values, PRODUCTION: true }, 'hubtel');
    assert.equal(secretMatches(settings, 'current-secret'), true);
    assert.equal(secretMatches(settings, 'previous-secret'), true);
    assert.equal(secretMatches(settings, 'current-secre'), false);
    assert.equal(secretMatches(settings, ''), false);
    assert.equal(secretMatches(gatewaySettings({ ...values, PRODUCTION: true }, 'at'), ''), false);
  });

  test('the allowlist takes addresses and ranges, IPv4 seen through IPv6 too', () => {
    const { values } = parse({ USSD_AT_ALLOWED_IPS: '196.201.214.0/24, 10.1.2.3, 2001:db8::/32' });
    const settings = gatewaySettings({ ...values, PRODUCTION: true }, 'at');
    assert.equal(addressAllowed(settings, '196.201.214.77'), true);
    assert.equal(addressAllowed(settings, '::ffff:196.201.214.77'), true);
    assert.equal(addressAllowed(settings, '10.1.2.3'), true);
    assert.equal(addressAllowed(settings, '2001:db8::1'), true);
    assert.equal(addressAllowed(settings, '196.201.215.1'), false);
    assert.equal(addressAllowed(settings, '10.1.2.4'), false);
    assert.equal(addressAllowed(settings, 'not-an-ip'), false);
    assert.equal(addressAllowed(gatewaySettings({ ...values, PRODUCTION: true }, 'nalo'), '8.8.8.8'), true);
  });
});

describe('session report fields', () => {
  test('a cost parses into minor units of its currency only when exact', () => {
    assert.deepEqual(parseCost('KES 0.10'), { currency: 'KES', minor: 10n });
    assert.deepEqual(parseCost('KES 0.1000'), { currency: 'KES', minor: 10n });
    assert.deepEqual(parseCost('UGX 25'), { currency: 'UGX', minor: 25n });
    assert.deepEqual(parseCost(' NGN 1.5 '), { currency: 'NGN', minor: 150n });
    assert.equal(parseCost('KES 0.105'), null);
    assert.equal(parseCost('XXX 1.00'), null);
    assert.equal(parseCost('0.10'), null);
    assert.equal(parseCost(null), null);
  });

  test("the gateway's date is read as UTC unless it names a zone; a far-future or unreadable one is null", () => {
    const now = new Date('2026-12-07T10:00:00Z');
    assert.equal(parseGatewayDate('2026-12-07 08:10:23', now)?.toISOString(), '2026-12-07T08:10:23.000Z');
    assert.equal(
      parseGatewayDate('2026-12-07T11:10:23+03:00', now)?.toISOString(),
      '2026-12-07T08:10:23.000Z',
    );
    assert.equal(parseGatewayDate('2027-01-07 08:10:23', now), null);
    assert.equal(parseGatewayDate('yesterday', now), null);
    assert.equal(parseGatewayDate('2026-13-45 08:10:23', now), null);
  });
});
