/**
 * Two Ajv instances: bodies are strict (no coercion, unknown fields rejected), path and query parameters
 * coerce strings to their declared types.
 */
import { Ajv, type AnySchema, type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';

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

function instance(options: ConstructorParameters<typeof Ajv>[0]): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: true, ...options });
  addFormats.default(ajv);
  realInstants(ajv);
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

/**
 * The schema's validator, plus one rule for every text the API takes: no NUL character. PostgreSQL text cannot hold
 * one, so a NUL that passed validation failed later as a 500 (found by the schema fuzzer in free-text fields).
 */
export function compileValidator(schema: AnySchema, httpPart: string | undefined) {
  const validate =
    httpPart === 'body' ? bodyAjv.compile(closeObjects(schema) as AnySchema) : parameterAjv.compile(schema);
  const checked = Object.assign(
    (data: unknown): boolean => {
      if (!validate(data)) {
        checked.errors = validate.errors;
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
