/**
 * fast-check arbitraries derived from the document's JSON schemas: `validValue` respects types, formats (uuid,
 * date-time, date, email, int64), patterns, lengths, ranges, enums, required and closed objects; `invalidValue`
 * breaks exactly one rule at the top or one level down (wrong type, out of range, too long, huge, bad format,
 * missing required, extra or prototype-polluting property, unicode and NUL bytes). Bodies travel as JSON text so
 * keys like `__proto__` reach the server as sent.
 */
import fc from 'fast-check';
import type { JsonSchema } from './openapi.ts';

/** A value for a named property, overriding the schema (ids from the world, a PIN that works …). */
export interface Hint {
  arbitrary: fc.Arbitrary<unknown>;
  /** Also present when the property is optional. */
  always?: boolean;
}
export type Hints = (name: string, schema: JsonSchema) => Hint | undefined;

const noHints: Hints = () => undefined;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

function integerArbitrary(minimum: number, maximum: number): fc.Arbitrary<number> {
  if (minimum > maximum) return fc.constant(minimum);
  if (minimum >= INT32_MIN && maximum <= INT32_MAX) return fc.integer({ min: minimum, max: maximum });
  return fc.oneof(
    fc.integer({ min: Math.max(minimum, INT32_MIN), max: Math.min(maximum, INT32_MAX) }),
    fc.bigInt({ min: BigInt(minimum), max: BigInt(maximum) }).map(Number),
    fc.constantFrom(minimum, maximum),
  );
}

function bounds(schema: JsonSchema, integer: boolean): { min: number; max: number } {
  const safe = integer ? Number.MAX_SAFE_INTEGER : Number.MAX_VALUE;
  let min = typeof schema.minimum === 'number' ? schema.minimum : -safe;
  let max = typeof schema.maximum === 'number' ? schema.maximum : safe;
  if (typeof schema.exclusiveMinimum === 'number')
    min = schema.exclusiveMinimum + (integer ? 1 : Number.EPSILON);
  if (typeof schema.exclusiveMaximum === 'number')
    max = schema.exclusiveMaximum - (integer ? 1 : Number.EPSILON);
  if (integer && schema.format !== 'int64') {
    // Unbounded plain integers: stay within what the app's int32 columns take when no bound is declared.
    if (typeof schema.minimum !== 'number') min = INT32_MIN;
    if (typeof schema.maximum !== 'number') max = INT32_MAX;
  }
  return { min, max };
}

const matchingCache = new Map<string, fc.Arbitrary<string>>();

/** fc.stringMatching, built once per pattern. */
function matching(pattern: string): fc.Arbitrary<string> {
  let arbitrary = matchingCache.get(pattern);
  if (!arbitrary) {
    arbitrary = fc.stringMatching(new RegExp(pattern));
    matchingCache.set(pattern, arbitrary);
  }
  return arbitrary;
}

function codePointLength(value: string): number {
  return [...value].length;
}

function stringArbitrary(schema: JsonSchema): fc.Arbitrary<string> {
  const minLength = typeof schema.minLength === 'number' ? schema.minLength : 0;
  const maxLength = typeof schema.maxLength === 'number' ? schema.maxLength : 200;
  const fits = (value: string) => {
    const length = codePointLength(value);
    return length >= minLength && length <= maxLength;
  };
  switch (schema.format) {
    case 'uuid':
      return fc.uuid();
    case 'date-time':
      return fc
        .date({
          min: new Date('1970-01-01T00:00:00Z'),
          max: new Date('2100-12-31T00:00:00Z'),
          noInvalidDate: true,
        })
        .map((date) => date.toISOString());
    case 'date':
      return fc
        .date({
          min: new Date('1900-01-01T00:00:00Z'),
          max: new Date('2100-12-31T00:00:00Z'),
          noInvalidDate: true,
        })
        .map((date) => date.toISOString().slice(0, 10));
    case 'email':
      return fc
        .tuple(
          fc.stringMatching(/^[a-z0-9][a-z0-9._+-]{0,20}$/),
          fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/),
          fc.constantFrom('com', 'test', 'co.ke', 'org'),
        )
        .map(([local, domain, tld]) => `${local.replace(/\.+$/, '').replace(/\.\.+/g, '.')}@${domain}.${tld}`)
        .filter((value) => fits(value) && !value.startsWith('.') && !/\.@/.test(value));
  }
  if (typeof schema.pattern === 'string') return matching(schema.pattern).filter(fits);
  const length = { minLength, maxLength: Math.min(maxLength, 80) };
  return fc.oneof(
    { weight: 3, arbitrary: fc.string({ ...length, unit: 'grapheme-ascii' }) },
    { weight: 1, arbitrary: fc.string({ ...length, unit: 'binary' }) },
    { weight: 1, arbitrary: fc.string({ ...length, unit: 'grapheme' }).filter(fits) },
  );
}

function branchesOf(schema: JsonSchema): JsonSchema[] | null {
  const branches = (schema.anyOf ?? schema.oneOf) as JsonSchema[] | undefined;
  return branches && branches.length > 0 ? branches : null;
}

function typeOf(schema: JsonSchema): string | undefined {
  if (Array.isArray(schema.type)) return schema.type.find((type) => type !== 'null') as string | undefined;
  if (typeof schema.type === 'string') return schema.type;
  if (schema.properties) return 'object';
  return undefined;
}

/** Values the schema accepts. */
export function validValue(schema: JsonSchema, hints: Hints = noHints, depth = 0): fc.Arbitrary<unknown> {
  if ('const' in schema) return fc.constant(schema.const);
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  const branches = branchesOf(schema);
  if (branches) return fc.oneof(...branches.map((branch) => validValue(branch, hints, depth)));
  if (Array.isArray(schema.allOf)) return validValue(schema.allOf[0] as JsonSchema, hints, depth);
  const type = typeOf(schema);
  const nullable = Array.isArray(schema.type) && schema.type.includes('null');
  let arbitrary: fc.Arbitrary<unknown>;
  switch (type) {
    case 'string':
      arbitrary = stringArbitrary(schema);
      break;
    case 'integer': {
      const { min, max } = bounds(schema, true);
      arbitrary = integerArbitrary(Math.ceil(min), Math.floor(max));
      break;
    }
    case 'number': {
      const { min, max } = bounds(schema, false);
      arbitrary = fc.double({ min, max, noNaN: true, noDefaultInfinity: true });
      break;
    }
    case 'boolean':
      arbitrary = fc.boolean();
      break;
    case 'null':
      arbitrary = fc.constant(null);
      break;
    case 'array': {
      const items = (schema.items as JsonSchema | undefined) ?? {};
      const minLength = typeof schema.minItems === 'number' ? schema.minItems : 0;
      const maxLength = Math.max(
        minLength,
        Math.min(typeof schema.maxItems === 'number' ? schema.maxItems : 4, 4),
      );
      const item = validValue(items, hints, depth + 1);
      arbitrary = schema.uniqueItems
        ? fc.uniqueArray(item, { minLength, maxLength, selector: (value) => JSON.stringify(value) })
        : fc.array(item, { minLength, maxLength });
      break;
    }
    case 'object':
      arbitrary = objectArbitrary(schema, hints, depth);
      break;
    default:
      // No type (e.g. a setting's `value`): any JSON.
      arbitrary = fc.jsonValue({ maxDepth: 2 });
  }
  return nullable ? fc.option(arbitrary, { nil: null }) : arbitrary;
}

function objectArbitrary(schema: JsonSchema, hints: Hints, depth: number): fc.Arbitrary<unknown> {
  const properties = (schema.properties as Record<string, JsonSchema> | undefined) ?? {};
  const required = new Set((schema.required as string[] | undefined) ?? []);
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  const requiredKeys: string[] = [];
  for (const [name, propertySchema] of Object.entries(properties)) {
    const hint = depth === 0 ? hints(name, propertySchema) : undefined;
    model[name] = hint
      ? fc.oneof(
          { weight: 4, arbitrary: hint.arbitrary },
          { weight: 1, arbitrary: validValue(propertySchema, hints, depth + 1) },
        )
      : validValue(propertySchema, hints, depth + 1);
    if (hint?.always) model[name] = hint.arbitrary;
    if (required.has(name) || hint?.always) requiredKeys.push(name);
  }
  const additional = schema.additionalProperties;
  const minProperties = typeof schema.minProperties === 'number' ? schema.minProperties : 0;
  const maxProperties =
    typeof schema.maxProperties === 'number' ? schema.maxProperties : Number.POSITIVE_INFINITY;
  let arbitrary: fc.Arbitrary<Record<string, unknown>>;
  if (Object.keys(model).length > 0) {
    arbitrary = fc.record(model, { requiredKeys });
  } else if (additional && typeof additional === 'object') {
    const value = validValue(additional as JsonSchema, hints, depth + 1);
    arbitrary = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/), value, {
      maxKeys: Math.min(3, maxProperties),
    });
  } else {
    arbitrary = fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/), fc.jsonValue({ maxDepth: 1 }), {
      maxKeys: Math.min(3, maxProperties),
    });
  }
  return arbitrary.filter((value) => {
    const count = Object.keys(value).length;
    return count >= minProperties && count <= maxProperties;
  });
}

/** A value of another JSON type than the schema takes. */
function wrongType(schema: JsonSchema): fc.Arbitrary<unknown> {
  const type = typeOf(schema);
  const options: fc.Arbitrary<unknown>[] = [];
  if (type !== 'string') options.push(fc.string({ maxLength: 10 }));
  if (type !== 'integer' && type !== 'number') options.push(fc.integer(), fc.double({ noNaN: true }));
  if (type === 'integer') options.push(fc.double({ noNaN: true, noInteger: true }));
  if (type !== 'boolean') options.push(fc.boolean());
  if (type !== 'array') options.push(fc.array(fc.integer(), { maxLength: 3 }));
  if (type !== 'object')
    options.push(fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }));
  const nullable =
    (Array.isArray(schema.type) && schema.type.includes('null')) ||
    (branchesOf(schema) ?? []).some((branch) => branch.type === 'null');
  if (!nullable) options.push(fc.constant(null));
  return fc.oneof(...options);
}

const HOSTILE_STRINGS = [
  '\u0000',
  'a\u0000b',
  '\u0000'.repeat(64),
  '\uFEFF',
  '\u202Eevil',
  '𝕳𝖊𝖑𝖑𝖔 🏦💸',
  'Z̴̡̪͎a̸l̷g̸o̵',
  '../../../../etc/passwd',
  "' OR 1=1 --",
  '"; DROP TABLE users; --',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell probe, sent as the literal text.
  '${jndi:ldap://x}',
  '{{constructor.constructor("return process")()}}',
  '<script>alert(1)</script>',
  '%00%2e%2e%2f',
  '   ',
  '',
  '-1',
  '1e309',
  'NaN',
  'null',
  'true',
  '[]',
  '{}',
  '__proto__',
  'constructor',
  '\r\nSet-Cookie: x=y',
];

/** Values breaking a string schema's own rules (length, pattern, format, enum). */
function badString(schema: JsonSchema): fc.Arbitrary<unknown> {
  const options: fc.Arbitrary<unknown>[] = [fc.constantFrom(...HOSTILE_STRINGS)];
  if (typeof schema.maxLength === 'number') {
    options.push(fc.constant('x'.repeat(schema.maxLength + 1)));
  }
  options.push(fc.constant('y'.repeat(100_000)));
  if (typeof schema.minLength === 'number' && schema.minLength > 0) {
    options.push(fc.constant('z'.repeat(schema.minLength - 1)));
  }
  if (schema.format === 'uuid') {
    options.push(
      fc.constantFrom(
        '00000000-0000-0000-0000-00000000000g',
        '01234567-89ab-cdef-0123-456789abcdef0',
        'not-a-uuid',
        '00000000000000000000000000000000',
      ),
    );
  }
  if (schema.format === 'date-time' || schema.format === 'date') {
    options.push(
      fc.constantFrom(
        '2026-02-30T10:00:00Z',
        '2026-13-01',
        '0000-00-00T00:00:00Z',
        '2026-12-31T23:59:60Z',
        'yesterday',
      ),
    );
  }
  if (schema.format === 'email') options.push(fc.constantFrom('no-at-sign', '@nobody', 'a@', 'a@@b.c'));
  return fc.oneof(...options);
}

function badNumber(schema: JsonSchema): fc.Arbitrary<unknown> {
  const integer = typeOf(schema) === 'integer';
  const options: fc.Arbitrary<unknown>[] = [
    fc.constantFrom(2 ** 53, -(2 ** 53), 1e308, -1e308, Number.MAX_SAFE_INTEGER + 2),
    fc.constantFrom('1', '0x10', '1e3', ''),
  ];
  if (integer) options.push(fc.constantFrom(0.5, -0.000001, 1.0000001));
  if (typeof schema.minimum === 'number') options.push(fc.constant(schema.minimum - 1));
  if (typeof schema.maximum === 'number') options.push(fc.constant(schema.maximum + 1));
  return fc.oneof(...options);
}

/** A value the schema refuses (one rule broken). */
export function invalidValue(schema: JsonSchema): fc.Arbitrary<unknown> {
  const type = typeOf(schema);
  const options: fc.Arbitrary<unknown>[] = [wrongType(schema)];
  if (Array.isArray(schema.enum) || branchesOf(schema)?.every((branch) => Array.isArray(branch.enum))) {
    options.push(fc.constantFrom('NOT_IN_ENUM', 'Active', ' active', ''));
  }
  if (type === 'string') options.push(badString(schema));
  if (type === 'integer' || type === 'number') options.push(badNumber(schema));
  if (type === 'array') {
    const tooMany = typeof schema.maxItems === 'number' ? schema.maxItems + 1 : 10_000;
    options.push(fc.constant(Array.from({ length: tooMany }, (_, index) => index)));
  }
  return fc.oneof(...options);
}

export const PROTOTYPE_KEYS = ['__proto__', 'constructor', 'prototype'];

/**
 * A JSON body text that breaks the schema in one way. `valid` is a valid body to mutate (for objects).
 */
export function invalidBody(
  schema: JsonSchema,
  valid: fc.Arbitrary<unknown>,
): fc.Arbitrary<{ text: string; how: string }> {
  const properties = (schema.properties as Record<string, JsonSchema> | undefined) ?? {};
  const required = (schema.required as string[] | undefined) ?? [];
  const names = Object.keys(properties);
  const mutations: fc.Arbitrary<{ text: string; how: string }>[] = [
    wrongType(schema).map((value) => ({ text: JSON.stringify(value), how: 'wrong top-level type' })),
    fc.constantFrom('{', '{"a":', '[1,2', 'nul', '{"x":1}}', '\u0000', '{"a":"\\uZZZZ"}').map((text) => ({
      text,
      how: 'malformed JSON',
    })),
    fc.constantFrom(200, 2000).map((depth) => ({
      text: `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
      how: `nesting ${depth} deep`,
    })),
    fc
      .tuple(
        valid,
        fc.constantFrom(...PROTOTYPE_KEYS),
        fc.constantFrom('{"polluted":true}', '{"isAdmin":true}', '1', 'null'),
      )
      .map(([body, key, value]) => ({ text: withRawKey(body, key, value), how: `extra key ${key}` })),
    fc
      .tuple(valid, fc.stringMatching(/^[a-z_]{1,12}$/), fc.jsonValue({ maxDepth: 1 }))
      .filter(([, key]) => !names.includes(key))
      .map(([body, key, value]) => ({
        text: withRawKey(body, key, JSON.stringify(value)),
        how: `extra property ${key}`,
      })),
  ];
  if (required.length > 0) {
    mutations.push(
      fc.tuple(valid, fc.constantFrom(...required)).map(([body, key]) => {
        const copy = { ...(body as Record<string, unknown>) };
        delete copy[key];
        return { text: JSON.stringify(copy), how: `missing ${key}` };
      }),
    );
  }
  if (names.length > 0) {
    mutations.push(
      fc.constantFrom(...names).chain((key) =>
        fc.tuple(valid, invalidValue(properties[key]!)).map(([body, value]) => ({
          text: JSON.stringify({ ...(body as object), [key]: value }),
          how: `bad ${key}`,
        })),
      ),
    );
  }
  return fc.oneof(...mutations);
}

/** The JSON text of an object with one more key, written raw (so `__proto__` stays a plain key). */
function withRawKey(body: unknown, key: string, valueText: string): string {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    return `{${JSON.stringify(key)}:${valueText}}`;
  const text = JSON.stringify(body);
  const inner = text.slice(1, -1);
  return `{${inner}${inner ? ',' : ''}${JSON.stringify(key)}:${valueText}}`;
}
