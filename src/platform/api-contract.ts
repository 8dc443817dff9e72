/**
 * The OpenAPI document is the API's contract: a client generated from it must be able to do everything the API
 * offers. Each route's operation is completed here from the same route configuration the runtime uses, so the two
 * cannot diverge:
 * - `Idempotency-Key` from `config.idempotency` (the idempotency hook's own setting), required where it is required;
 * - `Idempotent-Replayed` on the responses of those operations, `Retry-After` on 429 and 503 (and on any response
 *   whose codes send it);
 * - a multipart body from `config.multipart` (the fields, then the file);
 * - every response named, with an example (the curated ones of `API_EXAMPLES`, else one built from the schema);
 * - error responses listing the `error_code` values the route declares (`config.errors`), the generic ones added.
 * The runtime validation and serialisation schemas are left untouched: this only shapes the document
 * (`config.swaggerTransform`).
 */
import type { FastifySchema, RouteOptions } from 'fastify';
import type { TSchema } from 'typebox';
import type { ErrorCatalogueEntry, ErrorCode } from './error-catalogue.ts';

/** The API's version (the OpenAPI document's `info.version`, `/api/v1/app`). */
export const API_VERSION = '0.1.0';

/** A multipart/form-data body: its fields (the file among them, `format: binary`) and the order rule. */
export interface MultipartBody {
  /** An object schema of the parts, in the order they must be sent. */
  schema: TSchema;
  description: string;
}

/** Curated examples of one operation (by operationId): its request body and responses by status. */
export interface OperationExamples {
  request?: unknown;
  responses?: Record<number, unknown>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A multipart body, described for the document (the handler parses it; Fastify does not validate it). */
    multipart?: MultipartBody;
    /** A body taken as raw bytes (a file in its own format), described for the document: its media types. */
    rawBody?: { contentTypes: readonly string[]; description: string; example: string };
    /**
     * The error codes this route may answer beyond the generic ones (`genericErrorCodes`). Set from
     * `src/api-errors.ts` by operationId unless the route sets it; checked against every answer in tests.
     */
    errors?: readonly ErrorCode[];
  }
}

/** What of a route decides its error codes. */
export interface RouteShape {
  method: string | string[];
  url?: string;
  config?: {
    access?: { public: true } | { authenticated: true } | { permission: string };
    idempotency?: 'required' | 'optional';
    allowPendingPasswordChange?: boolean;
    allowPendingMfaEnrollment?: boolean;
    errors?: readonly ErrorCode[];
  };
}

/**
 * The codes every route of this shape may answer, added by the hooks rather than declared by the route: malformed
 * or invalid input, rate limiting, an unavailable dependency; with a body, its size and type; with path parameters,
 * NOT_FOUND; signed-in routes, the access guard's codes; idempotent routes, the idempotency hook's.
 */
export function genericErrorCodes(route: RouteShape): Set<ErrorCode> {
  const codes = new Set<ErrorCode>([
    'BAD_REQUEST',
    'MALFORMED_REQUEST',
    'VALIDATION_ERROR',
    'RATE_LIMITED',
    'INTERNAL_ERROR',
    'SERVICE_UNAVAILABLE',
  ]);
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  if (methods.some((method) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method))) {
    codes.add('PAYLOAD_TOO_LARGE');
    codes.add('UNSUPPORTED_MEDIA_TYPE');
  }
  if (route.url?.includes(':')) codes.add('NOT_FOUND');
  const config = route.config ?? {};
  const access = config.access;
  if (access && !('public' in access)) {
    for (const code of ['UNAUTHORIZED', 'INVALID_TOKEN', 'TOKEN_REVOKED', 'ACCESS_POLICY'] as const)
      codes.add(code);
    if (!config.allowPendingPasswordChange) codes.add('PASSWORD_CHANGE_REQUIRED');
    if (!config.allowPendingMfaEnrollment) codes.add('MFA_ENROLLMENT_REQUIRED');
    if ('permission' in access) codes.add('FORBIDDEN');
  }
  if (config.idempotency) {
    for (const code of [
      'IDEMPOTENCY_KEY_INVALID',
      'IDEMPOTENCY_KEY_REUSED',
      'IDEMPOTENCY_IN_PROGRESS',
    ] as const)
      codes.add(code);
    if (config.idempotency === 'required') codes.add('IDEMPOTENCY_KEY_REQUIRED');
  }
  return codes;
}

/** Every code the route may answer: its declared ones and the generic ones. */
export function routeErrorCodes(route: RouteShape): Set<ErrorCode> {
  const codes = genericErrorCodes(route);
  for (const code of route.config?.errors ?? []) codes.add(code);
  return codes;
}

type Schema = Record<string, unknown>;

const REASONS: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted: filed and waiting (for a second staff member, or for a device)',
  204: 'No content',
  400: 'Bad request: the request could not be read (malformed body or URL, missing or invalid Idempotency-Key)',
  401: 'Unauthorized: no valid credentials (missing, expired or revoked token; wrong password, PIN or code)',
  403: 'Forbidden: the principal may not do this',
  404: 'Not found (also anything the caller may not see)',
  409: 'Conflict with the current state of the resource',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable: the request is well formed but refused (validation, business rule)',
  423: 'Locked: too many failed attempts; try again later',
  426: 'Upgrade required',
  428: 'Precondition required: repeat the request with a one-time code',
  429: 'Too many requests: slow down and retry after `Retry-After` seconds',
  500: 'Internal error: an unexpected failure (details are in the server log under the request id)',
  503: 'Service unavailable: a dependency is down or the node is shutting down; retry after `Retry-After` seconds',
};

/** The code each error status shows in its example until routes declare their codes. */
const GENERIC_CODES: Record<number, { code: string; message: string }> = {
  400: { code: 'MALFORMED_REQUEST', message: 'Request body is not valid JSON' },
  401: { code: 'UNAUTHORIZED', message: 'Authentication required' },
  403: { code: 'FORBIDDEN', message: 'You do not have permission to do this' },
  404: { code: 'NOT_FOUND', message: 'Resource not found' },
  409: { code: 'CONFLICT', message: 'The resource changed; reload it and try again' },
  413: { code: 'PAYLOAD_TOO_LARGE', message: 'Request body is too large' },
  415: { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Unsupported content type' },
  422: { code: 'VALIDATION_ERROR', message: 'Request validation failed' },
  423: { code: 'LOCKED', message: 'Too many failed attempts; try again later' },
  426: { code: 'UPGRADE_REQUIRED', message: 'Upgrade to a WebSocket' },
  428: { code: 'OTP_REQUIRED', message: 'This amount needs a one-time code' },
  429: { code: 'RATE_LIMITED', message: 'Too many requests' },
  500: { code: 'INTERNAL_ERROR', message: 'An unexpected error occurred' },
  503: { code: 'SERVICE_UNAVAILABLE', message: 'A dependency is unavailable; try again shortly' },
};

export const EXAMPLE_REQUEST_ID = '0192f5a4-6a3e-7c21-9d1b-3f7c2e8a9b10';

const RETRY_AFTER = {
  type: 'integer',
  minimum: 1,
  description: 'Seconds to wait before trying again.',
};
const IDEMPOTENT_REPLAYED = {
  type: 'string',
  enum: ['true'],
  description:
    'Present when this answer is the stored answer to an earlier request with the same Idempotency-Key ' +
    '(nothing ran again).',
};

export function idempotencyKeyHeader(required: boolean): Schema {
  return {
    type: 'string',
    minLength: 8,
    maxLength: 255,
    pattern: '^[\\x21-\\x7e]{8,255}$',
    description:
      (required ? 'Required. ' : 'Optional. ') +
      'A client-chosen key (8–255 printable ASCII characters, e.g. a UUID) making the request safe to retry: the ' +
      'same key with the same body answers the stored response (header `Idempotent-Replayed: true`), with another ' +
      'body 422 IDEMPOTENCY_KEY_REUSED, while the first is still running 409 IDEMPOTENCY_IN_PROGRESS. Keys are ' +
      'scoped to the caller and kept at least 24 hours.',
    examples: ['9b2f3c1e-5d7a-4c8e-a1f0-6e2d4b8c7a90'],
  };
}

function isObject(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isErrorBodyRef(schema: unknown): boolean {
  return isObject(schema) && typeof schema.$ref === 'string' && schema.$ref.startsWith('ErrorBody');
}

/** Example strings for well-known property names and formats; the schema is checked against them in the tests. */
const NAMED_STRINGS: Array<[RegExp, string]> = [
  [/^currency$|_currency$/, 'KES'],
  [/phone/, '+254712345678'],
  [/email/, 'amina.otieno@example.com'],
  [/country/, 'KE'],
  [/^language$|^locale$/, 'en'],
  [/^channel$/, 'mobile'],
  [/time_zone|timezone/, 'Africa/Nairobi'],
];

const FORMAT_STRINGS: Record<string, string> = {
  uuid: '0192f5a4-6a3e-7c21-9d1b-3f7c2e8a9b10',
  'date-time': '2026-03-14T09:26:53.000Z',
  date: '1990-05-17',
  email: 'amina.otieno@example.com',
  uri: 'https://bank.example.com/',
  binary: '',
};

/** A string matching a simple regular expression: classes, escapes, literals, groups of alternatives, quantifiers. */
export function sampleForPattern(pattern: string): string | undefined {
  let index = 0;
  const source = pattern;
  function atom(): string | undefined {
    const char = source[index];
    if (char === '[') {
      const end = source.indexOf(']', index + 1);
      if (end < 0) return undefined;
      const body = source.slice(index + 1, end);
      index = end + 1;
      if (body.startsWith('^')) return body.includes('a') ? 'x' : 'a';
      if (body.startsWith('\\x')) return String.fromCharCode(Number.parseInt(body.slice(2, 4), 16) + 0x20);
      if (body.startsWith('\\d')) return '1';
      const first = body[0] === '\\' ? body[1] : body[0];
      // A range starting at 0 gives a non-zero digit (so numbers do not start with 0).
      if (body.startsWith('0-9')) return '1';
      return first;
    }
    if (char === '\\') {
      const next = source[index + 1];
      index += 2;
      if (next === 'd') return '1';
      if (next === 'w') return 'a';
      if (next === 's') return ' ';
      return next;
    }
    if (char === '(') {
      let depth = 0;
      let end = index;
      for (; end < source.length; end += 1) {
        if (source[end] === '(') depth += 1;
        if (source[end] === ')') depth -= 1;
        if (depth === 0) break;
      }
      const inner = source.slice(index + 1, end).replace(/^\?:/, '');
      index = end + 1;
      const firstAlternative = inner.split('|')[0] ?? '';
      return sampleForPattern(`^${firstAlternative}$`);
    }
    if (char === '.') {
      index += 1;
      return 'a';
    }
    index += 1;
    return char;
  }
  let out = '';
  if (source[index] === '^') index += 1;
  while (index < source.length) {
    if (source[index] === '$' && index === source.length - 1) break;
    if (source[index] === '|') return out;
    const piece = atom();
    if (piece === undefined) return undefined;
    let count = 1;
    const quantifier = source.slice(index).match(/^(\{(\d+)(,(\d*))?\}|\+|\*|\?)/);
    if (quantifier) {
      index += quantifier[0].length;
      if (quantifier[0] === '*' || quantifier[0] === '?') count = 0;
      else if (quantifier[0] === '+') count = 1;
      else count = Number(quantifier[2]);
      // Optional pieces are included once, which makes examples fuller (e.g. a decimal part).
      if (quantifier[0] === '?') count = 1;
    }
    out += piece.repeat(count);
  }
  return out;
}

/**
 * An example value for a schema: its own example or default when it has one, else built from its type. Returns
 * undefined for what cannot be shown (a reference outside the schema).
 */
export function sampleFromSchema(schema: unknown, name = '', depth = 0, requiredOnly = false): unknown {
  if (!isObject(schema) || depth > 12) return undefined;
  if (Array.isArray(schema.examples) && schema.examples.length > 0) return schema.examples[0];
  if ('example' in schema) return schema.example;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if ('default' in schema && schema.default !== undefined) return schema.default;
  for (const key of ['anyOf', 'oneOf']) {
    const members = schema[key];
    if (Array.isArray(members)) {
      const chosen = members.find((member) => isObject(member) && member.type !== 'null') ?? members[0];
      return sampleFromSchema(chosen, name, depth + 1, requiredOnly);
    }
  }
  if (Array.isArray(schema.allOf)) {
    const merged: Record<string, unknown> = {};
    for (const member of schema.allOf) {
      const value = sampleFromSchema(member, name, depth + 1, requiredOnly);
      if (isObject(value)) Object.assign(merged, value);
    }
    return merged;
  }
  const type = Array.isArray(schema.type) ? schema.type.find((item) => item !== 'null') : schema.type;
  switch (type) {
    case 'object': {
      const properties = isObject(schema.properties) ? schema.properties : {};
      const required = Array.isArray(schema.required) ? schema.required : [];
      const minimum = typeof schema.minProperties === 'number' ? schema.minProperties : 0;
      const out: Record<string, unknown> = {};
      for (const [key, value] of Object.entries(properties)) {
        // A request example shows what must be sent (optional fields may exclude each other), at least one field.
        const wanted = required.includes(key) || Object.keys(out).length < minimum;
        if (requiredOnly && !wanted) continue;
        const sample = sampleFromSchema(value, key, depth + 1, requiredOnly);
        if (sample !== undefined) out[key] = sample;
        else if (required.includes(key)) out[key] = null;
      }
      return out;
    }
    case 'array': {
      const item = sampleFromSchema(schema.items, name, depth + 1, requiredOnly);
      const minimum = typeof schema.minItems === 'number' ? schema.minItems : 1;
      return item === undefined ? [] : Array.from({ length: Math.max(1, minimum) }, () => item);
    }
    case 'integer':
    case 'number': {
      const minimum = typeof schema.minimum === 'number' ? schema.minimum : undefined;
      const maximum = typeof schema.maximum === 'number' ? schema.maximum : undefined;
      const preferred = /amount|balance|fee|total|limit|price/.test(name) ? 150000 : 1;
      let value = preferred;
      if (minimum !== undefined && value < minimum) value = minimum;
      if (maximum !== undefined && value > maximum) value = maximum;
      if (typeof schema.exclusiveMinimum === 'number' && value <= schema.exclusiveMinimum)
        value = schema.exclusiveMinimum + 1;
      return value;
    }
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'string':
      return sampleString(schema, name);
    default:
      if (isObject(schema.properties))
        return sampleFromSchema({ ...schema, type: 'object' }, name, depth, requiredOnly);
      // A schema without a type (any JSON value): an object shows best.
      if (!('$ref' in schema) && !('not' in schema)) return {};
      return undefined;
  }
}

function sampleString(schema: Schema, name: string): string {
  const format = typeof schema.format === 'string' ? schema.format : undefined;
  if (format && format in FORMAT_STRINGS) return FORMAT_STRINGS[format] as string;
  const pattern = typeof schema.pattern === 'string' ? schema.pattern : undefined;
  for (const [expression, value] of NAMED_STRINGS) {
    if (expression.test(name) && (!pattern || new RegExp(pattern).test(value))) return value;
  }
  if (pattern) {
    const sample = sampleForPattern(pattern);
    if (sample !== undefined && new RegExp(pattern).test(sample)) return fitLength(schema, sample);
  }
  return fitLength(schema, name ? name.replaceAll('_', ' ') : 'text');
}

function fitLength(schema: Schema, value: string): string {
  const minimum = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const maximum = typeof schema.maxLength === 'number' ? schema.maxLength : Number.POSITIVE_INFINITY;
  let out = value;
  while (out.length < minimum) out += out.length > 0 ? out : 'x';
  return out.slice(0, Math.max(minimum, Math.min(out.length, maximum)));
}

/** A curated example laid over the built one: objects merge (the curated fields win), anything else replaces. */
export function overlay(built: unknown, curated: unknown): unknown {
  if (curated === undefined) return built;
  if (!isObject(built) || !isObject(curated)) return curated;
  const out: Schema = { ...built };
  for (const [key, value] of Object.entries(curated)) out[key] = overlay(built[key], value);
  return out;
}

export function errorExample(status: number, code: string, message: string): Schema {
  return {
    status_code: status,
    error_code: code,
    message,
    details: null,
    request_id: EXAMPLE_REQUEST_ID,
  };
}

/** The run-time catalogue of error codes: the platform's and every module's (src/errors.ts collects it). */
export type ErrorCatalogueMap = ReadonlyMap<ErrorCode, ErrorCatalogueEntry>;

interface DocumentOptions {
  examples: Record<string, OperationExamples>;
  errors: ErrorCatalogueMap;
}

function entryOf(catalogue: ErrorCatalogueMap, code: ErrorCode): ErrorCatalogueEntry {
  const entry = catalogue.get(code);
  if (!entry) throw new Error(`error code ${code} is in no catalogue`);
  return entry;
}

/** One error response: named, listing its codes (with an example each) and the headers they may carry. */
function errorResponse(
  status: number,
  codes: ErrorCode[],
  idempotent: boolean,
  catalogue: ErrorCatalogueMap,
): Schema {
  const headers: Schema = {};
  const retries = codes.some((code) => entryOf(catalogue, code).retryAfter);
  if (status === 429 || status === 503 || retries) headers['Retry-After'] = RETRY_AFTER;
  if (idempotent && status < 500 && status !== 409 && status !== 429)
    headers['Idempotent-Replayed'] = IDEMPOTENT_REPLAYED;
  const listed = codes.map((code) => `- \`${code}\`: ${entryOf(catalogue, code).description}`).join('\n');
  const generic = GENERIC_CODES[status] ?? {
    code: 'INTERNAL_ERROR',
    message: 'An unexpected error occurred',
  };
  const examples: Schema = {};
  for (const code of codes) examples[code] = { $ref: `#/components/examples/${code}` };
  if (codes.length === 0)
    examples[generic.code] = { value: errorExample(status, generic.code, generic.message) };
  return {
    description: `${REASONS[status] ?? 'Error'}${listed ? `\n\n\`error_code\` values:\n${listed}` : ''}`,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    content: {
      'application/json': {
        schema:
          codes.length === 0
            ? { $ref: 'ErrorBody#' }
            : {
                allOf: [{ $ref: 'ErrorBody#' }],
                properties: { error_code: { type: 'string', enum: codes } },
              },
        examples,
      },
    },
  };
}

/** The catalogue's example bodies, one per code in code order (responses refer to them). */
export function errorExamples(
  catalogue: ErrorCatalogueMap,
): Record<string, { summary: string; value: Schema }> {
  const examples: Record<string, { summary: string; value: Schema }> = {};
  for (const code of [...catalogue.keys()].sort()) {
    const entry = entryOf(catalogue, code);
    if (entry.websocket) continue;
    const example = entry.example;
    examples[code] = {
      summary: entry.description,
      value: {
        ...errorExample(entry.status, code, example?.message ?? entry.description.replace(/\.$/, '')),
        details: example?.details ?? null,
      },
    };
  }
  return examples;
}

function successResponse(
  status: number,
  schema: unknown,
  example: unknown,
  idempotent: boolean,
): Schema | undefined {
  if (!isObject(schema)) return undefined;
  const headers = idempotent ? { 'Idempotent-Replayed': IDEMPOTENT_REPLAYED } : undefined;
  const description =
    (typeof schema.description === 'string' && schema.description) || REASONS[status] || 'Success';
  if (schema.type === 'null' || status === 204) {
    return { type: 'null', description, ...(headers ? { headers } : {}) };
  }
  if (isObject(schema.content)) {
    // Already in content form (binary answers): named, with the headers, the JSON form with its example.
    const content: Schema = { ...schema.content };
    const json = content['application/json'];
    if (isObject(json) && json.example === undefined) {
      const value = overlay(sampleFromSchema(json.schema), example);
      if (value !== undefined) content['application/json'] = { ...json, example: value };
    }
    return { ...schema, content, description, ...(headers ? { headers } : {}) };
  }
  const value = overlay(sampleFromSchema(schema), example);
  const { description: _ignored, ...body } = schema;
  return {
    description,
    ...(headers ? { headers } : {}),
    content: {
      'application/json': {
        schema: body,
        ...(value === undefined ? {} : { example: value }),
      },
    },
  };
}

/** The document-only schema of one route: what `@fastify/swagger` renders instead of the runtime schema. */
export function documentOperation(
  route: RouteOptions,
  options: DocumentOptions,
  openapiObject?: object,
): FastifySchema {
  const config = route.config ?? {};
  if (openapiObject) {
    // The error examples every response refers to, once in the document.
    const document = openapiObject as { components?: Record<string, Record<string, unknown>> };
    document.components ??= {};
    document.components.examples ??= errorExamples(options.errors);
  }
  const schema = (route.schema ?? {}) as Schema;
  const operationId = typeof schema.operationId === 'string' ? schema.operationId : '';
  const curated = options.examples[operationId] ?? {};
  const idempotency = config.idempotency;
  const out: Schema = { ...schema };

  if (idempotency) {
    const headers = isObject(schema.headers) ? schema.headers : { type: 'object', properties: {} };
    const properties = isObject(headers.properties) ? headers.properties : {};
    const required = Array.isArray(headers.required) ? headers.required : [];
    out.headers = {
      ...headers,
      type: 'object',
      properties: { ...properties, 'Idempotency-Key': idempotencyKeyHeader(idempotency === 'required') },
      required: idempotency === 'required' ? [...required, 'Idempotency-Key'] : required,
    };
  }

  if (config.multipart) {
    out.consumes = ['multipart/form-data'];
    out.body = {
      ...(config.multipart.schema as Schema),
      description: config.multipart.description,
      ...(curated.request === undefined ? {} : { examples: [curated.request] }),
    };
  } else if (config.rawBody) {
    out.consumes = [...config.rawBody.contentTypes];
    out.body = {
      type: 'string',
      format: 'binary',
      description: config.rawBody.description,
      examples: [config.rawBody.example],
    };
  } else if (isObject(schema.body)) {
    const value = curated.request ?? sampleFromSchema(schema.body, '', 0, true);
    out.body = value === undefined ? schema.body : { ...schema.body, examples: [value] };
  }

  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of [...routeErrorCodes(route as RouteShape)].sort()) {
    const status = entryOf(options.errors, code).status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Schema = {};
  const declared = isObject(schema.response) ? schema.response : {};
  const statuses = new Set([...Object.keys(declared).map(Number), ...byStatus.keys()]);
  for (const status of [...statuses].sort((a, b) => a - b)) {
    const key = String(status);
    const value = declared[key] ?? { $ref: 'ErrorBody#' };
    if (status >= 400 && isErrorBodyRef(value)) {
      responses[key] = errorResponse(
        status,
        byStatus.get(status) ?? [],
        idempotency !== undefined,
        options.errors,
      );
      continue;
    }
    const documented = successResponse(status, value, curated.responses?.[status], idempotency !== undefined);
    responses[key] = documented ?? value;
  }
  out.response = responses;
  return out as FastifySchema;
}

/** The document's description of the WebSocket, which an OpenAPI operation cannot describe. */
export const WEBSOCKET_DESCRIPTION = `

## Live events: the WebSocket \`GET /api/v1/ws\`

Besides HTTP, the API has one WebSocket endpoint, \`/api/v1/ws\` (\`wss://\` in production), for live
notifications and support chat. Upgrade with \`Authorization: Bearer <access token>\`, or (browsers) send
\`{"type":"auth","token":"…"}\` as the first message within 10 s; a bad, expired or revoked token, or a token in the
query string, closes the socket with code 4401. Messages are JSON text both ways: \`subscribe\`/\`unsubscribe\` a
channel (\`notifications\`, \`support:<conversation_id>\`), \`chat.send\`, \`ping\`; the server sends \`ready\`,
events as \`{"channel","type","data"}\` and refusals as \`{"type":"error","code","message"}\`. More than 20 messages a
second closes with 4429, a message over 64 KiB with 1009, a node shutting down with 1001. The operation
\`connectRealtime\` below documents the whole protocol.`;
