/**
 * A local Google OAuth2 token endpoint plus FCM HTTP v1 send endpoint (INTEGRATIONS.md §4). It owns a generated
 * service account (RSA key in Google's JSON key-file shape, token_uri pointing here), verifies the JWT bearer
 * grant the way Google does (RS256 signature, kid, iss, scope, aud, a lifetime of at most an hour), issues
 * expiring access tokens, and answers sends with FCM's success and error bodies (details[{@type, errorCode}]).
 */
import { generateKeyPairSync, type KeyObject, randomBytes, randomInt } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeProtectedHeader, type JWTPayload, jwtVerify, type ProtectedHeaderParameters } from 'jose';

export const FAKE_FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';
const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const FCM_ERROR_TYPE = 'type.googleapis.com/google.firebase.fcm.v1.FcmError';
const BAD_REQUEST_TYPE = 'type.googleapis.com/google.rpc.BadRequest';
const ACCESS_TOKEN_SECONDS = 3599;
/** How far ahead of the fake's clock an assertion's iat may be (Google allows a little clock skew). */
const CLOCK_SKEW_SECONDS = 300;
const MAX_PAYLOAD_BYTES = 4096;

export interface FakeFcmOptions {
  projectId: string;
  /** The fake's clock in epoch milliseconds (token expiry, assertion times); Date.now by default. */
  now?: () => number;
}

/** A Google service-account key file, as the Firebase console downloads it. */
export interface FakeServiceAccount {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  auth_uri: string;
  token_uri: string;
  auth_provider_x509_cert_url: string;
  client_x509_cert_url: string;
  universe_domain: string;
}

export interface FcmTokenRequest {
  contentType: string | undefined;
  grantType: string | null;
  assertion: string | null;
  /** The assertion's protected header and claims, when it could be decoded. */
  header: ProtectedHeaderParameters | undefined;
  claims: JWTPayload | undefined;
  status: number;
  /** The OAuth error word when refused (invalid_grant, …). */
  error: string | undefined;
  /** The token issued when granted. */
  accessToken: string | undefined;
}

export interface FcmSendRecord {
  path: string;
  headers: IncomingHttpHeaders;
  /** The Bearer token presented, if any. */
  accessToken: string | undefined;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: unknown;
  status: number;
  response: unknown;
}

export interface FcmFailure {
  status: number;
  /** FCM's errorCode for details[] (UNREGISTERED, QUOTA_EXCEEDED, …); none for a plain Google error. */
  errorCode?: string;
  /** Sent as a Retry-After header (seconds). */
  retryAfter?: number;
  message?: string;
}

export interface FakeFcm {
  /** Base URL for FCM (the client's baseUrl). */
  url: string;
  tokenUri: string;
  serviceAccount: FakeServiceAccount;
  tokenRequests: FcmTokenRequest[];
  sends: FcmSendRecord[];
  /** Sends to this registration token answer 404 UNREGISTERED from now on. */
  unregister(token: string): void;
  /** The next `count` authenticated sends to the right project fail this way. */
  failNext(count: number, failure: FcmFailure): void;
  /** Every access token issued so far stops working (a send with one answers 401). */
  expireTokens(): void;
  close(): Promise<void>;
}

const STATUS_WORDS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

const DEFAULT_MESSAGES: Record<string, string> = {
  UNREGISTERED: 'Requested entity was not found.',
  INVALID_ARGUMENT: 'Request contains an invalid argument.',
  SENDER_ID_MISMATCH: 'SenderId mismatch',
  THIRD_PARTY_AUTH_ERROR: 'Auth error from APNS or Web Push Service',
  QUOTA_EXCEEDED: 'Quota exceeded for quota metric \u0027Send requests\u0027.',
  UNAVAILABLE: 'The service is currently unavailable.',
  INTERNAL: 'Internal error encountered.',
  UNSPECIFIED_ERROR: 'Unspecified error.',
};

const UNAUTHENTICATED_MESSAGE =
  'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

const MESSAGE_FIELDS = new Set([
  'name',
  'data',
  'notification',
  'android',
  'webpush',
  'apns',
  'fcm_options',
  'token',
  'topic',
  'condition',
]);

class FakeHttpError extends Error {
  readonly status: number;
  readonly body: unknown;
  constructor(status: number, body: unknown) {
    super(`fake FCM ${status}`);
    this.status = status;
    this.body = body;
  }
}

export async function startFakeFcm(options: FakeFcmOptions): Promise<FakeFcm> {
  const { projectId } = options;
  const now = options.now ?? Date.now;
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const tokenRequests: FcmTokenRequest[] = [];
  const sends: FcmSendRecord[] = [];
  const failures: FcmFailure[] = [];
  const unregistered = new Set<string>();
  /** access token → when it expires, in `now()` milliseconds. */
  const issued = new Map<string, number>();

  const server: Server = createServer((request, response) => {
    void handle(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const tokenUri = `${url}/token`;
  const serviceAccount: FakeServiceAccount = {
    type: 'service_account',
    project_id: projectId,
    private_key_id: randomBytes(20).toString('hex'),
    private_key: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    client_email: `firebase-adminsdk-fake@${projectId}.iam.gserviceaccount.com`,
    client_id: String(randomInt(1e9, 1e10 - 1)) + String(randomInt(1e9, 1e10 - 1)),
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: tokenUri,
    auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
    client_x509_cert_url: `https://www.googleapis.com/robot/v1/metadata/x509/firebase-adminsdk-fake%40${projectId}.iam.gserviceaccount.com`,
    universe_domain: 'googleapis.com',
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const text = await readText(request);
    const path = new URL(request.url ?? '/', 'http://fake.invalid').pathname;
    try {
      if (request.method === 'POST' && path === '/token') {
        const { status, body } = await grantToken(request.headers, text);
        sendJson(response, status, body);
        return;
      }
      const match = /^\/v1\/projects\/([^/]+)\/messages:send$/.exec(path);
      if (request.method === 'POST' && match) {
        const record: FcmSendRecord = {
          path,
          headers: request.headers,
          accessToken: bearer(request.headers),
          body: parseJson(text),
          status: 0,
          response: undefined,
        };
        sends.push(record);
        const answer = (status: number, body: unknown, headers: Record<string, string> = {}) => {
          record.status = status;
          record.response = body;
          sendJson(response, status, body, headers);
        };
        try {
          const { status, body, headers } = acceptSend(record, decodeURIComponent(match[1] ?? ''));
          answer(status, body, headers);
        } catch (error) {
          if (!(error instanceof FakeHttpError)) throw error;
          answer(error.status, error.body);
        }
        return;
      }
      sendJson(response, 404, googleError(404, 'Not Found', []));
    } catch (error) {
      sendJson(response, 500, googleError(500, String(error), []));
    }
  }

  async function grantToken(
    headers: IncomingHttpHeaders,
    text: string,
  ): Promise<{ status: number; body: unknown }> {
    const contentType = headers['content-type'];
    const form = new URLSearchParams(text);
    const record: FcmTokenRequest = {
      contentType,
      grantType: form.get('grant_type'),
      assertion: form.get('assertion'),
      header: undefined,
      claims: undefined,
      status: 0,
      error: undefined,
      accessToken: undefined,
    };
    tokenRequests.push(record);
    const refuse = (error: string, description: string) => {
      record.status = 400;
      record.error = error;
      return { status: 400, body: { error, error_description: description } };
    };
    if (!(contentType ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      return refuse('invalid_request', 'Invalid Content-Type: form-urlencoded body expected');
    }
    if (record.grantType !== JWT_BEARER_GRANT) {
      return refuse('unsupported_grant_type', `Invalid grant_type: ${record.grantType ?? ''}`);
    }
    if (!record.assertion) return refuse('invalid_request', 'Missing required parameter: assertion');
    try {
      record.header = decodeProtectedHeader(record.assertion);
    } catch {
      return refuse('invalid_grant', 'Invalid JWT: could not decode the assertion');
    }
    if (record.header.kid !== serviceAccount.private_key_id) {
      return refuse('invalid_grant', 'Invalid JWT Signature.');
    }
    if (record.header.typ !== undefined && record.header.typ !== 'JWT') {
      return refuse('invalid_grant', 'Invalid JWT: typ must be JWT');
    }
    const verified = await verifyAssertion(record.assertion, publicKey, tokenUri, serviceAccount, now());
    if ('error' in verified) return refuse(verified.error, verified.description);
    record.claims = verified.claims;
    const scopes = String(verified.claims.scope ?? '').split(' ');
    if (!scopes.includes(FAKE_FCM_SCOPE)) {
      return refuse('invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    }
    const accessToken = `ya29.fake-${randomBytes(24).toString('base64url')}`;
    issued.set(accessToken, now() + ACCESS_TOKEN_SECONDS * 1000);
    record.status = 200;
    record.accessToken = accessToken;
    return {
      status: 200,
      body: { access_token: accessToken, expires_in: ACCESS_TOKEN_SECONDS, token_type: 'Bearer' },
    };
  }

  function acceptSend(
    record: FcmSendRecord,
    project: string,
  ): { status: number; body: unknown; headers?: Record<string, string> } {
    const expiresAt = record.accessToken === undefined ? undefined : issued.get(record.accessToken);
    if (expiresAt === undefined || now() >= expiresAt) {
      throw new FakeHttpError(401, googleError(401, UNAUTHENTICATED_MESSAGE, []));
    }
    if (project !== projectId) {
      throw new FakeHttpError(
        403,
        googleError(
          403,
          `Permission 'cloudmessaging.messages.create' denied on resource '//cloudresourcemanager.googleapis.com/projects/${project}' (or it may not exist).`,
          [],
        ),
      );
    }
    const failure = failures.shift();
    if (failure) {
      const details = failure.errorCode ? [{ '@type': FCM_ERROR_TYPE, errorCode: failure.errorCode }] : [];
      const message =
        failure.message ??
        (failure.errorCode ? DEFAULT_MESSAGES[failure.errorCode] : undefined) ??
        (failure.status === 401 ? UNAUTHENTICATED_MESSAGE : `HTTP ${failure.status}`);
      const headers: Record<string, string> = {};
      if (failure.retryAfter !== undefined) headers['retry-after'] = String(failure.retryAfter);
      return { status: failure.status, body: googleError(failure.status, message, details), headers };
    }
    if (!(record.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
      throw badRequest('Invalid JSON payload received. Unexpected token.', []);
    }
    const token = validateSendBody(record.body);
    if (!/^[\w:-]{8,}$/.test(token)) {
      throw fcmFailure(
        400,
        'INVALID_ARGUMENT',
        'The registration token is not a valid FCM registration token',
      );
    }
    if (unregistered.has(token))
      throw fcmFailure(404, 'UNREGISTERED', DEFAULT_MESSAGES.UNREGISTERED as string);
    const messageId = `0:${now()}${String(randomInt(0, 1000)).padStart(3, '0')}%${randomBytes(8).toString('hex')}`;
    return { status: 200, body: { name: `projects/${projectId}/messages/${messageId}` } };
  }

  let closed: Promise<void> | undefined;
  return {
    url,
    tokenUri,
    serviceAccount,
    tokenRequests,
    sends,
    unregister(token) {
      unregistered.add(token);
    },
    failNext(count, failure) {
      for (let index = 0; index < count; index += 1) failures.push(failure);
    },
    expireTokens() {
      for (const token of issued.keys()) issued.set(token, Number.NEGATIVE_INFINITY);
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}

async function verifyAssertion(
  assertion: string,
  publicKey: KeyObject,
  tokenUri: string,
  account: FakeServiceAccount,
  nowMs: number,
): Promise<{ claims: JWTPayload } | { error: string; description: string }> {
  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(assertion, publicKey, {
      algorithms: ['RS256'],
      currentDate: new Date(nowMs),
      clockTolerance: CLOCK_SKEW_SECONDS,
    }));
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED' || code === 'ERR_JOSE_ALG_NOT_ALLOWED') {
      return { error: 'invalid_grant', description: 'Invalid JWT Signature.' };
    }
    return {
      error: 'invalid_grant',
      description:
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
    };
  }
  if (claims.iss !== account.client_email) {
    return { error: 'invalid_grant', description: 'Invalid grant: account not found' };
  }
  if (claims.aud !== tokenUri) {
    return {
      error: 'invalid_grant',
      description: `Invalid JWT: Failed audience check. The expected audience is ${tokenUri}.`,
    };
  }
  const { iat, exp } = claims;
  const nowSeconds = nowMs / 1000;
  if (
    typeof iat !== 'number' ||
    typeof exp !== 'number' ||
    exp <= iat ||
    exp - iat > 3600 ||
    iat > nowSeconds + CLOCK_SKEW_SECONDS
  ) {
    return {
      error: 'invalid_grant',
      description:
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
    };
  }
  return { claims };
}

/** Checks the v1 send body as FCM does (for a message to one token) and returns that token. */
function validateSendBody(body: unknown): string {
  if (body === undefined || body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('Invalid JSON payload received. Unexpected token.', []);
  }
  const request = body as Record<string, unknown>;
  for (const name of Object.keys(request)) {
    if (name !== 'message' && name !== 'validate_only') {
      throw badRequest(`Invalid JSON payload received. Unknown name "${name}": Cannot find field.`, [
        {
          field: name,
          description: `Invalid JSON payload received. Unknown name "${name}": Cannot find field.`,
        },
      ]);
    }
  }
  const message = request.message;
  if (message === null || typeof message !== 'object' || Array.isArray(message)) {
    throw fcmFailure(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.');
  }
  const fields = message as Record<string, unknown>;
  for (const name of Object.keys(fields)) {
    if (!MESSAGE_FIELDS.has(name)) {
      const description = `Invalid JSON payload received. Unknown name "${name}" at 'message': Cannot find field.`;
      throw badRequest(description, [{ field: `message.${name}`, description }]);
    }
  }
  if (typeof fields.token !== 'string' || fields.token.length === 0) {
    throw fcmFailure(400, 'INVALID_ARGUMENT', 'Recipient of the message is not set.');
  }
  const notification = fields.notification;
  if (notification !== undefined) {
    if (notification === null || typeof notification !== 'object' || Array.isArray(notification)) {
      throw invalidValue('message.notification', notification);
    }
    for (const [key, value] of Object.entries(notification)) {
      if (!['title', 'body', 'image'].includes(key)) {
        const description = `Invalid JSON payload received. Unknown name "${key}" at 'message.notification': Cannot find field.`;
        throw badRequest(description, [{ field: `message.notification.${key}`, description }]);
      }
      if (typeof value !== 'string') throw invalidValue(`message.notification.${key}`, value);
    }
  }
  const data = fields.data;
  if (data !== undefined) {
    if (data === null || typeof data !== 'object' || Array.isArray(data))
      throw invalidValue('message.data', data);
    Object.entries(data).forEach(([key, value], index) => {
      if (typeof value !== 'string') throw invalidValue(`message.data[${index}].value`, value);
      if (key === 'from' || key.startsWith('google.') || key.startsWith('gcm.')) {
        throw fcmFailure(400, 'INVALID_ARGUMENT', `Invalid data payload key: ${key}`);
      }
    });
  }
  const android = fields.android;
  if (android !== undefined) {
    const priority = (android as Record<string, unknown> | null)?.priority;
    if (priority !== undefined && priority !== 'NORMAL' && priority !== 'HIGH') {
      throw invalidValue('message.android.priority', priority);
    }
  }
  const apnsHeaders = (fields.apns as Record<string, unknown> | undefined)?.headers;
  if (apnsHeaders !== undefined) {
    for (const [key, value] of Object.entries(apnsHeaders as Record<string, unknown>)) {
      if (typeof value !== 'string') throw invalidValue(`message.apns.headers[${key}]`, value);
    }
  }
  const payloadBytes = Buffer.byteLength(JSON.stringify({ notification, data }));
  if (payloadBytes > MAX_PAYLOAD_BYTES) throw fcmFailure(400, 'INVALID_ARGUMENT', 'Message is too big');
  return fields.token;
}

function googleError(status: number, message: string, details: unknown[]): unknown {
  return {
    error: {
      code: status,
      message,
      status: STATUS_WORDS[status] ?? 'UNKNOWN',
      ...(details.length > 0 ? { details } : {}),
    },
  };
}

function fcmFailure(status: number, errorCode: string, message: string): FakeHttpError {
  return new FakeHttpError(status, googleError(status, message, [{ '@type': FCM_ERROR_TYPE, errorCode }]));
}

function badRequest(
  message: string,
  violations: Array<{ field: string; description: string }>,
): FakeHttpError {
  const details = violations.length > 0 ? [{ '@type': BAD_REQUEST_TYPE, fieldViolations: violations }] : [];
  return new FakeHttpError(400, googleError(400, message, details));
}

function invalidValue(field: string, value: unknown): FakeHttpError {
  const description = `Invalid value at '${field}' (TYPE_STRING), ${JSON.stringify(value)}`;
  return badRequest(`Invalid JSON payload received. ${description}`, [{ field, description }]);
}

function bearer(headers: IncomingHttpHeaders): string | undefined {
  const match = /^Bearer (\S+)$/.exec(headers.authorization ?? '');
  return match?.[1];
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

async function readText(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
