/**
 * A local phone-ownership provider speaking the wire format of src/integrations/phone-ownership (its header):
 * POST /v1/phone/ownership with an X-Api-Key header and a JSON body {msisdn, first_name, last_name}; it answers
 * owner_match (names compared case-insensitively), sim_swap_at and device_change_at from the subscribers the test
 * registered, 404 UNKNOWN_MSISDN for any other number, 401 for a missing or wrong key, 400 for a malformed body.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSubscriber {
  /** Null: the operator holds no name (owner_match null). */
  firstName: string | null;
  lastName: string | null;
  simSwapAt?: Date | null;
  deviceChangeAt?: Date | null;
}

export interface PhoneOwnershipRecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export interface FakePhoneOwnership {
  url: string;
  requests: PhoneOwnershipRecordedRequest[];
  setSubscriber(msisdn: string, subscriber: FakeSubscriber): void;
  /** The next `count` requests answer this status (503 by default) with an error body. */
  failNext(count: number, status?: number): void;
  close(): Promise<void>;
}

const E164 = /^\+[1-9]\d{6,14}$/;

export async function startFakePhoneOwnership(options: { apiKey: string }): Promise<FakePhoneOwnership> {
  const requests: PhoneOwnershipRecordedRequest[] = [];
  const subscribers = new Map<string, FakeSubscriber>();
  const failures: number[] = [];

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const text = await readText(request);
    let body: unknown;
    try {
      body = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    const url = new URL(request.url ?? '/', 'http://fake.invalid');
    requests.push({ method: request.method ?? 'GET', path: url.pathname, headers: request.headers, body });
    const failure = failures.shift();
    if (failure !== undefined) return sendError(response, failure, 'UNAVAILABLE', 'Try again later');
    if (request.method !== 'POST' || url.pathname !== '/v1/phone/ownership')
      return sendError(response, 404, 'NOT_FOUND', 'No such resource');
    if (request.headers['x-api-key'] !== options.apiKey)
      return sendError(response, 401, 'UNAUTHORIZED', 'Missing or invalid X-Api-Key');
    if (!String(request.headers['content-type'] ?? '').startsWith('application/json'))
      return sendError(response, 400, 'INVALID_REQUEST', 'Content-Type must be application/json');
    const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    const { msisdn, first_name: firstName, last_name: lastName } = fields;
    if (typeof msisdn !== 'string' || !E164.test(msisdn))
      return sendError(response, 400, 'INVALID_REQUEST', 'msisdn must be E.164');
    if (typeof firstName !== 'string' || typeof lastName !== 'string')
      return sendError(response, 400, 'INVALID_REQUEST', 'first_name and last_name are required');
    const subscriber = subscribers.get(msisdn);
    if (!subscriber) return sendError(response, 404, 'UNKNOWN_MSISDN', 'No subscriber on this number');
    const ownerMatch =
      subscriber.firstName === null || subscriber.lastName === null
        ? null
        : same(subscriber.firstName, firstName) && same(subscriber.lastName, lastName);
    sendJson(response, 200, {
      msisdn,
      owner_match: ownerMatch,
      sim_swap_at: subscriber.simSwapAt?.toISOString() ?? null,
      device_change_at: subscriber.deviceChangeAt?.toISOString() ?? null,
    });
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendError(response, 500, 'INTERNAL', String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    setSubscriber: (msisdn, subscriber) => subscribers.set(msisdn, subscriber),
    failNext: (count, status = 503) => {
      for (let index = 0; index < count; index += 1) failures.push(status);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function same(left: string, right: string): boolean {
  return left.trim().toLowerCase() === right.trim().toLowerCase();
}

function readText(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}

function sendError(response: ServerResponse, status: number, code: string, message: string): void {
  sendJson(response, status, { error: { code, message } });
}
