/**
 * Two Ajv instances: bodies are strict (no coercion, unknown fields rejected), path and query parameters
 * coerce strings to their declared types.
 */
import { Ajv, type AnySchema, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import type { FastifyInstance } from 'fastify';
import { platformErrorCatalogue as platform } from './errors.ts';

const int64 = { type: 'number' as const, validate: (value: number) => Number.isSafeInteger(value) };
const int32 = {
  type: 'number' as const,
  validate: (value: number) => Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31,
};

/**
 * RFC 3339 as ajv-formats reads it also admits a leap second (`23:59:60`), which `new Date()` cannot represent: the
 * value would pass validation and then fail as an invalid date. Instants must also be real JavaScript dates.
 */
function realInstants(ajv: Ajv): void {
  const rfc3339 = ajv.formats['date-time'];
  const valid =
    typeof rfc3339 === 'function'
      ? rfc3339
      : rfc3339 &&
          typeof rfc3339 === 'object' &&
          'validate' in rfc3339 &&
          typeof rfc3339.validate === 'function'
        ? (rfc3339.validate as (value: string) => boolean)
        : () => true;
  ajv.addFormat('date-time', {
    type: 'string',
    validate: (value: string) => valid(value) && !Number.isNaN(Date.parse(value)),
  });
}

/** The oldest date of birth accepted, in years before today. */
export const MAX_AGE_YEARS = 120;

/**
 * Today's date where it is latest (UTC+14): a birth "today" anywhere on Earth is not in the future, whatever the
 * server's clock zone.
 */
function latestToday(now = Date.now()): string {
  return new Date(now + 14 * 3600_000).toISOString().slice(0, 10);
}

/**
 * `x-date-of-birth: true` on a `format: date` string: not in the future and at most MAX_AGE_YEARS ago. A schema
 * keyword rather than a service check, so every route taking a date of birth refuses the same way (422 naming the
 * field) and the OpenAPI document shows the rule.
 */
function datesOfBirth(ajv: Ajv): void {
  const check = Object.assign(
    (enabled: boolean, value: unknown): boolean => {
      if (!enabled || typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return true;
      const today = latestToday();
      const oldest = `${String(Number(today.slice(0, 4)) - MAX_AGE_YEARS).padStart(4, '0')}${today.slice(4)}`;
      const message =
        value > today
          ? 'must not be in the future'
          : value < oldest
            ? `must be at most ${MAX_AGE_YEARS} years ago (on or after ${oldest})`
            : null;
      check.errors = message
        ? [{ keyword: 'x-date-of-birth', message, params: { oldest, latest: today } }]
        : [];
      return message === null;
    },
    { errors: [] as Partial<ErrorObject>[] },
  );
  ajv.addKeyword({
    keyword: 'x-date-of-birth',
    type: 'string',
    schemaType: 'boolean',
    errors: true,
    validate: check,
  });
}

function instance(options: ConstructorParameters<typeof Ajv>[0]): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, ...options });
  addFormats.default(ajv);
  realInstants(ajv);
  datesOfBirth(ajv);
  ajv.addFormat('int64', int64);
  ajv.addFormat('int32', int32);
  ajv.addKeyword({ keyword: 'example' });
  return ajv;
}

export const bodyAjv = instance({ coerceTypes: false, removeAdditional: false });
export const parameterAjv = instance({ coerceTypes: 'array', removeAdditional: false });

/** Closes every object schema that does not say otherwise, so unknown body fields are a 422. */
export function closeObjects(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closeObjects);
  if (!schema || typeof schema !== 'object') return schema;
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) copy[key] = closeObjects(value);
  if (copy.type === 'object' && copy.properties && copy.additionalProperties === undefined) {
    copy.additionalProperties = false;
  }
  return copy;
}

/** JSON pointer of the first string holding a NUL character, or null. */
function nulAt(value: unknown, pointer: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? pointer : null;
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = nulAt(item, `${pointer}/${index}`);
      if (found !== null) return found;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const found = nulAt(item, `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`);
      if (found !== null) return found;
    }
  }
  return null;
}

/** The value at an Ajv schema path (`#/properties/a/anyOf`: the keyword's value) in a schema, or undefined. */
function schemaAt(schema: unknown, pointer: string): unknown {
  let current = schema;
  for (const raw of pointer.replace(/^#\/?/, '').split('/').filter(Boolean)) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (!current || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/** The values a schema admits when it is only constants (`const`, `enum`, `null`, or an `anyOf` of those). */
function constantsOf(schema: unknown): unknown[] | null {
  if (!schema || typeof schema !== 'object') return null;
  const node = schema as Record<string, unknown>;
  if ('const' in node) return [node.const];
  if (Array.isArray(node.enum)) return node.enum;
  if (node.type === 'null' && Object.keys(node).every((key) => ['type', 'description'].includes(key)))
    return [null];
  if (Array.isArray(node.anyOf)) {
    const values: unknown[] = [];
    for (const branch of node.anyOf) {
      const admitted = constantsOf(branch);
      if (!admitted) return null;
      values.push(...admitted);
    }
    return values;
  }
  return null;
}

const listed = (values: unknown[]) => values.map((value) => JSON.stringify(value)).join(', ');

/**
 * Ajv reports a value outside a union of literals (TypeBox's `Union([Literal…])`) as one "must be equal to constant"
 * per branch plus "must match a schema in anyOf", and an `enum` as "must be equal to one of the allowed values":
 * neither tells the client what is allowed. Each becomes one error listing the allowed values.
 */
export function explainConstants(schema: unknown, errors: ErrorObject[]): ErrorObject[] {
  const within = (error: ErrorObject, union: ErrorObject) =>
    error.instancePath === union.instancePath && error.schemaPath.startsWith(`${union.schemaPath}/`);
  const unions = errors.filter(
    (error) =>
      error.keyword === 'anyOf' && constantsOf({ anyOf: schemaAt(schema, error.schemaPath) }) !== null,
  );
  // The outermost union stands for its branches' errors and for the unions nested in it.
  const outermost = unions.filter((union) => !unions.some((outer) => within(union, outer)));
  const explained: ErrorObject[] = [];
  for (const error of errors) {
    if (error.keyword === 'enum' && Array.isArray(error.params.allowedValues)) {
      explained.push({ ...error, message: `must be one of ${listed(error.params.allowedValues)}` });
    } else if (outermost.includes(error)) {
      const allowedValues = constantsOf({ anyOf: schemaAt(schema, error.schemaPath) }) ?? [];
      explained.push({
        ...error,
        keyword: 'enum',
        params: { allowedValues },
        message: `must be one of ${listed(allowedValues)}`,
      });
    } else if (!outermost.some((union) => within(error, union))) {
      explained.push(error);
    }
  }
  return explained;
}

/**
 * The schema's validator, plus one rule for every text the API takes: no NUL character. PostgreSQL text cannot hold
 * one, so a NUL that passed validation failed later as a 500 (found by the schema fuzzer in free-text fields).
 */
export function compileValidator(schema: AnySchema, httpPart: string | undefined) {
  const compiled = httpPart === 'body' ? (closeObjects(schema) as AnySchema) : schema;
  const validate = httpPart === 'body' ? bodyAjv.compile(compiled) : parameterAjv.compile(compiled);
  const checked = Object.assign(
    (data: unknown): boolean => {
      if (!validate(data)) {
        checked.errors = validate.errors ? explainConstants(compiled, validate.errors) : validate.errors;
        return false;
      }
      const at = nulAt(data, '');
      if (at === null) {
        checked.errors = null;
        return true;
      }
      checked.errors = [
        {
          instancePath: at,
          schemaPath: '#',
          keyword: 'noNul',
          params: {},
          message: 'must not contain NUL characters',
        },
      ];
      return false;
    },
    { errors: null as ErrorObject[] | null | undefined },
  );
  return checked;
}

/** Where a parsed JSON value holds a key that would reach an object's prototype, as `body.a.__proto__`. */
function prototypeKeyAt(value: unknown, path: string): string | null {
  if (!value || typeof value !== 'object') return null;
  for (const [key, item] of Object.entries(value)) {
    const at = `${path}.${key}`;
    if (key === '__proto__') return at;
    if (key === 'constructor' && item && typeof item === 'object' && Object.hasOwn(item, 'prototype'))
      return `${at}.prototype`;
    const found = prototypeKeyAt(item, at);
    if (found) return found;
  }
  return null;
}

/**
 * Fastify's JSON parser refuses `__proto__` and `constructor.prototype` keys (prototype poisoning) with the same
 * error as broken JSON, so a client is told its valid JSON is "not valid JSON". This one keeps that parser (and its
 * refusal) and, when the text is valid JSON after all, says which key is not allowed.
 */
export function registerJsonParser(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, raw, done) => {
    const body = String(raw);
    parse(request, body, (error, value) => {
      if (!error) return done(null, value);
      let field: string | null = null;
      try {
        field = prototypeKeyAt(JSON.parse(body), 'body');
      } catch {
        // Not JSON at all: the parser's own error stands.
      }
      if (!field) return done(error, undefined);
      const key = field.endsWith('.constructor.prototype') ? 'constructor.prototype' : '__proto__';
      done(
        platform.MALFORMED_REQUEST({
          message: `The key "${key}" is not allowed in a request body`,
          details: { errors: [{ field, message: 'is not allowed', rule: 'forbiddenKey' }] },
        }),
        undefined,
      );
    });
  });
}
