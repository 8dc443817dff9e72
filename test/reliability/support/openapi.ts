/**
 * The app's own OpenAPI document as the source of truth for the reliability suites: every operation, the access
 * it documents (public / any signed-in principal / a permission, customers allowed or not), its parameter and body
 * schemas, and an ajv (draft 2020-12, as OpenAPI 3.1) check of any response against what the operation documents.
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { TestContext } from '../../helpers/app.ts';

export type JsonSchema = Record<string, unknown>;

export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, RawOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

interface RawParameter {
  in: 'path' | 'query' | 'header' | 'cookie';
  name: string;
  required?: boolean;
  schema?: JsonSchema;
}

interface RawOperation {
  operationId?: string;
  description?: string;
  security?: unknown[];
  parameters?: RawParameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema?: JsonSchema }> };
  responses: Record<string, { description?: string; content?: Record<string, { schema?: JsonSchema }> }>;
}

export type Access =
  | { kind: 'public' }
  | { kind: 'authenticated' }
  | { kind: 'permission'; permission: string; allowCustomer: boolean };

export interface Operation {
  /** GET, POST, … */
  method: string;
  /** The documented path template, e.g. /api/v1/wallet/wallet/{id}. */
  path: string;
  /** `METHOD path`, the key used in reports. */
  key: string;
  operationId: string;
  access: Access;
  pathParams: { name: string; schema: JsonSchema }[];
  queryParams: { name: string; required: boolean; schema: JsonSchema }[];
  /** The content type and schema of the request body, when it has one. */
  body: { contentType: string; schema: JsonSchema; required: boolean } | null;
  /** Documented status codes → content type → schema (an empty map: no body). */
  responses: Map<number, Map<string, JsonSchema | null>>;
  raw: RawOperation;
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

export async function loadDocument(t: Pick<TestContext, 'app'>): Promise<OpenApiDocument> {
  const response = await t.app.inject({ method: 'GET', url: '/openapi.json' });
  if (response.statusCode !== 200) throw new Error(`GET /openapi.json answered ${response.statusCode}`);
  return response.json() as OpenApiDocument;
}

/**
 * The access an operation documents (see documentRoute in src/app.ts): `security: []` is public; otherwise the
 * description ends with "Requires `module:action`." (plus " (customers: own resources)") or "Any signed-in principal.".
 */
export function accessOf(operation: RawOperation, key: string): Access {
  if (Array.isArray(operation.security) && operation.security.length === 0) return { kind: 'public' };
  const description = operation.description ?? '';
  const permission = /Requires `([a-z_]+:[a-z_]+)`( \(customers: own resources\))?\./.exec(description);
  if (permission) {
    return { kind: 'permission', permission: permission[1]!, allowCustomer: Boolean(permission[2]) };
  }
  if (description.includes('Any signed-in principal.')) return { kind: 'authenticated' };
  throw new Error(`${key} documents no access (neither public, a permission nor "Any signed-in principal.")`);
}

export function operationsOf(document: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, raw] of Object.entries(item)) {
      if (!(HTTP_METHODS as readonly string[]).includes(method)) continue;
      const key = `${method.toUpperCase()} ${path}`;
      const parameters = raw.parameters ?? [];
      const responses = new Map<number, Map<string, JsonSchema | null>>();
      for (const [status, response] of Object.entries(raw.responses ?? {})) {
        const byType = new Map<string, JsonSchema | null>();
        for (const [type, media] of Object.entries(response.content ?? {}))
          byType.set(type, media.schema ?? null);
        responses.set(Number(status), byType);
      }
      const content = raw.requestBody ? Object.entries(raw.requestBody.content) : [];
      const [contentType, media] = content[0] ?? [];
      operations.push({
        method: method.toUpperCase(),
        path,
        key,
        operationId: raw.operationId ?? key,
        access: accessOf(raw, key),
        pathParams: parameters
          .filter((parameter) => parameter.in === 'path')
          .map((parameter) => ({ name: parameter.name, schema: parameter.schema ?? {} })),
        queryParams: parameters
          .filter((parameter) => parameter.in === 'query')
          .map((parameter) => ({
            name: parameter.name,
            required: parameter.required === true,
            schema: parameter.schema ?? {},
          })),
        body:
          contentType && media
            ? { contentType, schema: media.schema ?? {}, required: raw.requestBody?.required !== false }
            : null,
        responses,
        raw,
      });
    }
  }
  return operations;
}

/** Fills a path template: `{name}` → the (URI-encoded) value. */
export function fillPath(path: string, values: Record<string, string>): string {
  return path.replace(/\{([^}]+)\}/g, (_match, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for path parameter ${name} of ${path}`);
    return encodeURIComponent(value);
  });
}

export function queryString(values: Record<string, unknown>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const item of value) search.append(name, String(item));
    else search.append(name, typeof value === 'object' ? JSON.stringify(value) : String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** Follows a local `$ref` (`#/components/schemas/X`). */
export function deref(document: OpenApiDocument, schema: JsonSchema): JsonSchema {
  let current = schema;
  for (let depth = 0; depth < 10 && typeof current.$ref === 'string'; depth += 1) {
    const ref = current.$ref as string;
    if (!ref.startsWith('#/')) throw new Error(`unsupported $ref ${ref}`);
    let target: unknown = document;
    for (const part of ref.slice(2).split('/')) target = (target as Record<string, unknown>)[part];
    if (!target || typeof target !== 'object') throw new Error(`dangling $ref ${ref}`);
    current = target as JsonSchema;
  }
  return current;
}

export interface ResponseVerdict {
  ok: boolean;
  problem?: string;
}

/**
 * Checks responses against the document: the status must be documented for the operation, the content type one
 * it documents (or no body where it documents none), and a JSON body valid under the documented schema.
 */
export class ResponseChecker {
  readonly #ajv: Ajv2020;
  readonly #validators = new Map<string, ValidateFunction>();
  readonly #document: OpenApiDocument;

  constructor(document: OpenApiDocument) {
    this.#document = document;
    // strict: false: the document carries OpenAPI-only keywords (example, description on $ref siblings …).
    this.#ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
    addFormats.default(this.#ajv);
    this.#ajv.addFormat('int64', {
      type: 'number',
      validate: (value: number) => Number.isSafeInteger(value),
    });
    this.#ajv.addFormat('int32', {
      type: 'number',
      validate: (value: number) => Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31,
    });
    this.#ajv.addFormat('binary', true);
    // The whole document is one schema resource so `#/components/schemas/…` references resolve.
    this.#ajv.addSchema({ ...document, $id: 'openapi.json' } as object, 'openapi.json');
  }

  #validator(operation: Operation, status: number, type: string): ValidateFunction {
    const key = `${operation.key} ${status} ${type}`;
    let validate = this.#validators.get(key);
    if (!validate) {
      const pointer = [
        'paths',
        operation.path,
        operation.method.toLowerCase(),
        'responses',
        String(status),
        'content',
        type,
        'schema',
      ]
        .map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1'))
        .join('/');
      validate = this.#ajv.compile({ $ref: `openapi.json#/${pointer}` });
      this.#validators.set(key, validate);
    }
    return validate;
  }

  check(
    operation: Operation,
    response: { statusCode: number; headers: Record<string, unknown>; body: string; rawPayload?: Buffer },
  ): ResponseVerdict {
    const status = response.statusCode;
    const documented = operation.responses.get(status);
    if (!documented) return { ok: false, problem: `status ${status} is not documented` };
    const rawType = String(response.headers['content-type'] ?? '');
    const type = rawType.split(';')[0]!.trim().toLowerCase();
    const length = response.rawPayload?.length ?? Buffer.byteLength(response.body);
    if (documented.size === 0) {
      return length === 0
        ? { ok: true }
        : { ok: false, problem: `status ${status} documents no body, got ${length} bytes of ${rawType}` };
    }
    if (!documented.has(type)) {
      return {
        ok: false,
        problem: `content type "${rawType}" is not documented for ${status} (${[...documented.keys()].join(', ')})`,
      };
    }
    if (documented.get(type) === null || !type.includes('json')) return { ok: true };
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      return { ok: false, problem: `status ${status}: the body is not JSON` };
    }
    const validate = this.#validator(operation, status, type);
    if (validate(body)) return { ok: true };
    return {
      ok: false,
      problem: `status ${status}: ${this.#ajv.errorsText(validate.errors, { separator: '; ' })}`,
    };
  }

  get document(): OpenApiDocument {
    return this.#document;
  }
}

/**
 * Reads first, then writes, then the writes that end or remove something (logging out, revoking, unlinking,
 * closing, erasing, deleting), so one operation does not take away the object or session the next one needs.
 */
export function destructiveLast(operations: Operation[]): Operation[] {
  const rank = (operation: Operation) => {
    if (operation.method === 'GET') return 0;
    if (operation.method === 'DELETE') return 2;
    if (/logout|revoke|erase|close|status|disable|remove|freeze|unlink|retire|clear/.test(operation.path))
      return 2;
    return 1;
  };
  return [...operations].sort((x, y) => rank(x) - rank(y));
}
