/**
 * Drives USSD sessions through the real gateway routes (`POST /api/v1/ussd/{gateway}/{secret}`) in each gateway's
 * wire format: Africa's Talking (form POST, the whole path in `text`, `CON `/`END ` replies), Hubtel (JSON with Type
 * and Sequence), Arkesel and Nalo (JSON, latest input only).
 */
import { randomUUID } from 'node:crypto';
import type { TestContext } from './app.ts';
import { digitsStandAlone } from './secrets.ts';

export type Gateway = 'at' | 'hubtel' | 'arkesel' | 'nalo';
export const GATEWAY_NAMES: readonly Gateway[] = ['at', 'hubtel', 'arkesel', 'nalo'];

export const USSD_TEST_SECRET = 'ussd-test-secret';

/** Env overrides for `startTestApp`: every gateway on, with a known secret. */
export function ussdConfig(extra: Record<string, string> = {}): Record<string, string> {
  return {
    USSD_AT_SECRET: USSD_TEST_SECRET,
    USSD_HUBTEL_SECRET: USSD_TEST_SECRET,
    USSD_ARKESEL_SECRET: USSD_TEST_SECRET,
    USSD_NALO_SECRET: USSD_TEST_SECRET,
    ...extra,
  };
}

export interface Screen {
  continue: boolean;
  message: string;
  status: number;
}

export interface UssdDriver {
  readonly sessionId: string;
  readonly gateway: Gateway;
  /** Dials the service code: the first screen. */
  start(): Promise<Screen>;
  /** Sends one input: the next screen. */
  send(input: string): Promise<Screen>;
  /** Sends several inputs in turn, returning the last screen. */
  walk(...inputs: string[]): Promise<Screen>;
  /** Delivers the last request again exactly as before (a gateway retry). */
  repeat(): Promise<Screen>;
  /** The raw first request (dialling the service code), for duplicate/reorder tests. */
  requestForStart(): { url: string; headers: Record<string, string>; payload: string };
  /** The raw request body the next `send(input)` would post (for duplicate/reorder tests). */
  requestFor(input: string): { url: string; headers: Record<string, string>; payload: string };
  /** Posts a request made by `requestFor` (in any order, any number of times). */
  post(request: { url: string; headers: Record<string, string>; payload: string }): Promise<Screen>;
}

function parseReply(gateway: Gateway, status: number, body: string): Screen {
  if (status !== 200) return { continue: false, message: body, status };
  if (gateway === 'at') {
    if (body.startsWith('CON ')) return { continue: true, message: body.slice(4), status };
    if (body.startsWith('END ')) return { continue: false, message: body.slice(4), status };
    throw new Error(`Africa's Talking reply without CON/END: ${body}`);
  }
  const json = JSON.parse(body) as Record<string, unknown>;
  if (gateway === 'hubtel')
    return {
      continue: String(json.Type).toLowerCase() === 'response',
      message: String(json.Message),
      status,
    };
  if (gateway === 'arkesel')
    return { continue: json.continueSession === true, message: String(json.message), status };
  return { continue: json.MSGTYPE === true, message: String(json.MSG), status };
}

export function ussdDriver(
  t: Pick<TestContext, 'app'>,
  options: { phone: string; gateway?: Gateway; secret?: string; sessionId?: string; network?: string },
): UssdDriver {
  const gateway = options.gateway ?? 'at';
  const sessionId = options.sessionId ?? `ATUid_${randomUUID().replaceAll('-', '')}`;
  const url = `/api/v1/ussd/${gateway}/${options.secret ?? USSD_TEST_SECRET}`;
  const inputs: string[] = [];
  let started = false;
  let lastRequest: { url: string; headers: Record<string, string>; payload: string } | null = null;

  const build = (input: string | null) => {
    const isNew = input === null;
    const path = isNew ? inputs : [...inputs, input];
    const latest = input ?? '';
    const msisdn = options.phone.replace(/^\+/, '');
    switch (gateway) {
      case 'at':
        return {
          url,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams({
            sessionId,
            serviceCode: '*384*123#',
            phoneNumber: options.phone,
            networkCode: options.network ?? '63902',
            text: path.join('*'),
          }).toString(),
        };
      case 'hubtel':
        return {
          url,
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify({
            Type: isNew ? 'Initiation' : 'Response',
            Message: isNew ? '*713*2#' : latest,
            ServiceCode: '713*2',
            Operator: options.network ?? 'mtn',
            ClientState: '',
            Mobile: msisdn,
            SessionId: sessionId,
            Sequence: path.length + 1,
          }),
        };
      case 'arkesel':
        return {
          url,
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify({
            sessionID: sessionId,
            userID: 'codeforge',
            newSession: isNew,
            msisdn,
            userData: isNew ? '*920*1#' : latest,
            network: options.network ?? 'MTN',
          }),
        };
      case 'nalo':
        return {
          url,
          headers: { 'content-type': 'application/json' },
          payload: JSON.stringify({
            USERID: sessionId,
            MSISDN: msisdn,
            MSGTYPE: isNew,
            USERDATA: isNew ? '*920*1#' : latest,
            NETWORK: options.network ?? 'MTN',
          }),
        };
    }
  };

  const post = async (request: { url: string; headers: Record<string, string>; payload: string }) => {
    lastRequest = request;
    const response = await t.app.inject({
      method: 'POST',
      url: request.url,
      headers: request.headers,
      payload: request.payload,
    });
    return parseReply(gateway, response.statusCode, response.body);
  };

  const driver: UssdDriver = {
    sessionId,
    gateway,
    start: async () => {
      started = true;
      return post(build(null));
    },
    send: async (input) => {
      if (!started) throw new Error('start() the session first');
      const request = build(input);
      inputs.push(input);
      return post(request);
    },
    walk: async (...steps) => {
      let screen: Screen | undefined;
      for (const step of steps) screen = await driver.send(step);
      if (!screen) throw new Error('walk() needs at least one input');
      return screen;
    },
    repeat: async () => {
      if (!lastRequest) throw new Error('nothing to repeat');
      return post(lastRequest);
    },
    requestForStart: () => {
      started = true;
      return build(null);
    },
    requestFor: (input) => {
      const request = build(input);
      inputs.push(input);
      return request;
    },
    post,
  };
  return driver;
}

/**
 * Fails when a PIN appears in captured log text standing alone: not inside a hex id or hash, nor a decimal (a response
 * time of 12.4072 ms), which may hold the same digits by chance.
 */
export function assertNoPinInLogs(logs: string, pins: readonly string[]): void {
  for (const pin of pins) {
    const { found, context } = digitsStandAlone(logs, pin);
    if (found) throw new Error(`PIN ${pin} appears in the logs: …${context}…`);
  }
}
