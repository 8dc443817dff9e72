/**
 * A local CAMARA SIM Swap provider speaking the wire format of src/integrations/camara-sim-swap (its header):
 *
 * - `POST /oauth2/token`: client credentials with HTTP Basic client authentication (401 `invalid_client` for a
 *   missing or wrong id/secret, 400 `unsupported_grant_type`); hands out a random bearer token with `expires_in`.
 * - `POST /sim-swap/v2/retrieve-date` and `/sim-swap/v2/check`: a valid bearer token (401 UNAUTHENTICATED, also for a
 *   token past its life or revoked), `x-correlator` echoed, `phoneNumber` E.164 (400 INVALID_ARGUMENT, 422
 *   MISSING_IDENTIFIER when absent), `maxAge` 1..2400 (400 OUT_OF_RANGE). A number the test set answers its last
 *   swap; a swap older than the monitored period answers `latestSimChange: null` with `monitoredPeriod`; any other
 *   number 404 IDENTIFIER_NOT_FOUND (or, with `everyoneKnown`, no swap known); a number marked not applicable 422
 *   SERVICE_NOT_APPLICABLE.
 * - Error mode: `failNext(count, status, code)` answers the next API calls with that CAMARA ErrorInfo.
 * - Admin (for the quick start): `POST /__fake/swaps {"phoneNumber", "latestSimChange": <RFC 3339> | null}` sets a
 *   number's last swap, `GET /__fake/swaps` lists them.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SimSwapRecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or the form fields of a token request. */
  body: unknown;
}

export interface FakeSimSwapOptions {
  clientId: string;
  clientSecret: string;
  /** Lifetime of the tokens handed out (default 3600). */
  tokenTtlSeconds?: number;
  /** Days of history the operator keeps; a swap older than this answers null with `monitoredPeriod` (default 120). */
  monitoredPeriodDays?: number;
  /** Any number not set is a subscriber with no known swap (instead of 404 IDENTIFIER_NOT_FOUND). */
  everyoneKnown?: boolean;
  port?: number;
}

export interface FakeSimSwap {
  /** The API root and the token URL to give the client. */
  url: string;
  tokenUrl: string;
  requests: SimSwapRecordedRequest[];
  /** The number's last SIM change (null: a subscriber with none). */
  setSwap(phoneNumber: string, latestSimChange: Date | null): void;
  /** The number answers 422 SERVICE_NOT_APPLICABLE. */
  setNotApplicable(phoneNumber: string): void;
  /** The next `count` API calls (not token requests) answer this status and code. */
  failNext(count: number, status?: number, code?: string): void;
  /** Every token handed out so far stops being accepted (as a provider rotating keys would). */
  revokeTokens(): void;
  /** API calls (retrieve-date and check) received so far. */
  apiCalls(): SimSwapRecordedRequest[];
  close(): Promise<void>;
}

const E164 = /^\+[1-9]\d{4,14}$/;
const API = new Set(['/sim-swap/v2/retrieve-date', '/sim-swap/v2/check']);

export async function startFakeSimSwap(options: FakeSimSwapOptions): Promise<FakeSimSwap> {
  const requests: SimSwapRecordedRequest[] = [];
  const swaps = new Map<string, Date | null>();
  const notApplicable = new Set<string>();
  const tokens = new Map<string, number>();
  const failures: { status: number; code: string }[] = [];
  const ttl = options.tokenTtlSeconds ?? 3600;
  const period = options.monitoredPeriodDays ?? 120;
  const basic = `Basic ${Buffer.from(
    `${encodeURIComponent(options.clientId)}:${encodeURIComponent(options.clientSecret)}`,
  ).toString('base64')}`;

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const text = await readText(request);
    const url = new URL(request.url ?? '/', 'http://fake.invalid');
    const form = String(request.headers['content-type'] ?? '').startsWith(
      'application/x-www-form-urlencoded',
    );
    let body: unknown;
    try {
      body = form
        ? Object.fromEntries(new URLSearchParams(text))
        : text.length > 0
          ? JSON.parse(text)
          : undefined;
    } catch {
      body = text;
    }
    requests.push({ method: request.method ?? 'GET', path: url.pathname, headers: request.headers, body });
    const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};

    if (url.pathname === '/__fake/swaps') {
      if (request.method === 'GET')
        return sendJson(response, 200, {
          swaps: [...swaps].map(([phoneNumber, at]) => ({
            phoneNumber,
            latestSimChange: at?.toISOString() ?? null,
          })),
        });
      const { phoneNumber, latestSimChange } = fields;
      if (typeof phoneNumber !== 'string' || !E164.test(phoneNumber))
        return sendJson(response, 400, { error: 'phoneNumber must be E.164' });
      if (
        latestSimChange !== null &&
        (typeof latestSimChange !== 'string' || Number.isNaN(Date.parse(latestSimChange)))
      )
        return sendJson(response, 400, { error: 'latestSimChange must be an RFC 3339 date-time or null' });
      swaps.set(phoneNumber, latestSimChange === null ? null : new Date(latestSimChange));
      return sendJson(response, 200, { phoneNumber, latestSimChange });
    }

    if (url.pathname === '/oauth2/token') {
      if (request.method !== 'POST') return sendJson(response, 405, { error: 'invalid_request' });
      if (request.headers.authorization !== basic)
        return sendJson(response, 401, { error: 'invalid_client' });
      if (!form || fields.grant_type !== 'client_credentials')
        return sendJson(response, 400, { error: 'unsupported_grant_type' });
      const token = randomBytes(18).toString('base64url');
      tokens.set(token, Date.now() + ttl * 1000);
      return sendJson(response, 200, {
        access_token: token,
        token_type: 'Bearer',
        expires_in: ttl,
        scope: fields.scope ?? '',
      });
    }

    const correlator = request.headers['x-correlator'];
    if (typeof correlator === 'string') response.setHeader('x-correlator', correlator);
    if (request.method !== 'POST' || !API.has(url.pathname))
      return sendError(response, 404, 'NOT_FOUND', 'The requested URL was not found on this server');
    const failure = failures.shift();
    if (failure) return sendError(response, failure.status, failure.code, 'Failure requested by the test');
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const expiresAt = bearer ? tokens.get(bearer) : undefined;
    if (expiresAt === undefined || expiresAt <= Date.now())
      return sendError(
        response,
        401,
        'UNAUTHENTICATED',
        'Request not authenticated due to missing, invalid, or expired credentials.',
      );
    if (
      !String(request.headers['content-type'] ?? '').startsWith('application/json') ||
      typeof body !== 'object'
    )
      return sendError(
        response,
        400,
        'INVALID_ARGUMENT',
        'Client specified an invalid argument, request body or query param.',
      );
    const { phoneNumber, maxAge } = fields;
    if (phoneNumber === undefined)
      return sendError(response, 422, 'MISSING_IDENTIFIER', 'The device cannot be identified.');
    if (typeof phoneNumber !== 'string' || !E164.test(phoneNumber))
      return sendError(response, 400, 'INVALID_ARGUMENT', 'phoneNumber must be E.164 with a leading +');
    if (notApplicable.has(phoneNumber))
      return sendError(
        response,
        422,
        'SERVICE_NOT_APPLICABLE',
        'The service is not available for the provided identifier.',
      );
    if (!swaps.has(phoneNumber) && !options.everyoneKnown)
      return sendError(response, 404, 'IDENTIFIER_NOT_FOUND', 'Device identifier not found.');
    const swappedAt = swaps.get(phoneNumber) ?? null;
    const monitoredFrom = Date.now() - period * 24 * 3_600_000;
    const known = swappedAt && swappedAt.getTime() >= monitoredFrom ? swappedAt : null;

    if (url.pathname === '/sim-swap/v2/retrieve-date') {
      // The history kept is bounded: an older swap is not known, and the answer says how far back it looked.
      if (swappedAt && !known)
        return sendJson(response, 200, { latestSimChange: null, monitoredPeriod: period });
      return sendJson(response, 200, { latestSimChange: known?.toISOString() ?? null });
    }
    const hours = maxAge ?? 240;
    if (typeof hours !== 'number' || !Number.isInteger(hours) || hours < 1 || hours > 2400)
      return sendError(response, 400, 'OUT_OF_RANGE', 'Client specified an invalid range.');
    const swapped = known !== null && known.getTime() >= Date.now() - hours * 3_600_000;
    return sendJson(response, 200, { swapped });
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendError(response, 500, 'INTERNAL', String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    tokenUrl: `${url}/oauth2/token`,
    requests,
    setSwap: (phoneNumber, latestSimChange) => swaps.set(phoneNumber, latestSimChange),
    setNotApplicable: (phoneNumber) => notApplicable.add(phoneNumber),
    failNext: (count, status = 503, code = 'UNAVAILABLE') => {
      for (let index = 0; index < count; index += 1) failures.push({ status, code });
    },
    revokeTokens: () => tokens.clear(),
    apiCalls: () => requests.filter((request) => API.has(request.path)),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
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

/** A CAMARA ErrorInfo. */
function sendError(response: ServerResponse, status: number, code: string, message: string): void {
  sendJson(response, status, { status, code, message });
}
