/**
 * How a configuration variable is declared: its documentation, default, parser and whether it is a secret. The
 * platform's variables (src/config.ts) and each module's own (`defineModule({ config })`) use the same helpers and
 * are parsed together at start-up, so an operator sees every problem at once.
 */

export interface VariableSpec<T, F extends string | undefined = string | undefined> {
  readonly doc: string;
  readonly secret: boolean;
  /** The value used when the variable is unset; `undefined` means optional with no value. */
  readonly fallback: F;
  readonly parse: (raw: string) => T;
  /**
   * What PRODUCTION=true refuses in this variable: a problem, or undefined. Receives the parsed value, the other
   * values of the same set (a module's `config`) and the variable's name.
   */
  // A method (checked bivariantly), so a spec of any value type is still a `VariableSpec<unknown>`.
  inProduction?(value: T, values: Readonly<Record<string, unknown>>, name: string): string | undefined;
}

export class ConfigProblem extends Error {}

export function variable<T, F extends string | undefined>(
  doc: string,
  fallback: F,
  parse: (raw: string) => T,
  secret = false,
): VariableSpec<T, F> {
  return { doc, fallback, parse, secret };
}

/** The variable with a refusal in production (see `VariableSpec.inProduction`). */
export function refusedInProduction<T, F extends string | undefined>(
  spec: VariableSpec<T, F>,
  check: (value: T, values: Readonly<Record<string, unknown>>, name: string) => string | undefined,
): VariableSpec<T, F> {
  return { ...spec, inProduction: check };
}

/** A provider identity whose secret (another variable of the same set) production requires once it is set. */
export function needsSecretInProduction<T, F extends string | undefined>(
  spec: VariableSpec<T, F>,
  secret: string,
): VariableSpec<T, F> {
  return refusedInProduction(spec, (value, values, name) =>
    value && !values[secret] ? `${secret} is required when ${name} is set` : undefined,
  );
}

export const text = (raw: string): string => raw;

export function integer(min: number, max: number) {
  return (raw: string): number => {
    if (!/^-?\d+$/.test(raw.trim())) throw new ConfigProblem(`must be an integer, got "${raw}"`);
    const value = Number(raw);
    if (value < min || value > max)
      throw new ConfigProblem(`must be between ${min} and ${max}, got ${value}`);
    return value;
  };
}

export function boolean(raw: string): boolean {
  const value = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off', ''].includes(value)) return false;
  throw new ConfigProblem(`must be true or false, got "${raw}"`);
}

export function oneOf<const T extends string>(...allowed: T[]) {
  return (raw: string): T => {
    if ((allowed as string[]).includes(raw)) return raw as T;
    throw new ConfigProblem(`must be one of ${allowed.join(', ')}, got "${raw}"`);
  };
}

/**
 * Secrets that become one URL path segment (comma-separated during a rotation): URL-safe characters, at most 100 each
 * (the router's limit for a path parameter; a longer one could never match).
 */
export function pathSecrets(raw: string): string {
  for (const item of list(raw))
    if (!/^[A-Za-z0-9._~-]{1,100}$/.test(item))
      throw new ConfigProblem('each secret must be 1–100 URL-safe characters (A–Z, a–z, 0–9, . _ ~ -)');
  return raw;
}

/** A bearer token: at least 32 visible ASCII characters (a guessable token would make the check pointless). */
export function bearerToken(raw: string): string {
  if (!/^[\x21-\x7e]{32,512}$/.test(raw))
    throw new ConfigProblem('must be 32–512 visible ASCII characters (e.g. openssl rand -hex 32)');
  return raw;
}

export function list(raw: string): string[] {
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

export function url(protocols: string[]) {
  return (raw: string): string => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new ConfigProblem('must be a URL');
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new ConfigProblem(`must use ${protocols.join(' or ')}`);
    }
    return raw;
  };
}

export function base64Key(bytes: number) {
  return (raw: string): Buffer => {
    const key = Buffer.from(raw, 'base64');
    if (key.length !== bytes) throw new ConfigProblem(`must be ${bytes} bytes, base64-encoded`);
    return key;
  };
}

/** A module's variables, by name. */
export type ConfigSpec = Readonly<Record<string, VariableSpec<unknown, string | undefined>>>;

type Parsed<S> = S extends VariableSpec<infer T, string | undefined> ? T : never;
type HasFallback<S> = S extends { fallback: string } ? true : false;

/** The parsed values of a set of variables (optional ones may be undefined). */
export type ModuleConfig<C extends ConfigSpec> = {
  readonly [K in keyof C]: HasFallback<C[K]> extends true ? Parsed<C[K]> : Parsed<C[K]> | undefined;
};

/** What a set of variables is parsed against: production mode and the platform's values (for `{NAME}`). */
export interface ParseContext {
  readonly production?: boolean;
  /** Values `{NAME}` may name in a non-secret value or default (the platform's config), beside the set's own. */
  readonly references?: Readonly<Record<string, unknown>>;
}

/**
 * `{NAME}` in a non-secret value (or default) stands for the value of NAME: a variable of the set declared before it,
 * or one of `references`. Lower-case placeholders (`{token}`) and unknown names are left as they are; null when NAME
 * is known but has no value (it failed to parse, and that problem is reported already).
 */
export function expandReferences(
  source: string | undefined,
  known: (name: string) => boolean,
  value: (name: string) => unknown,
): string | undefined | null {
  let unresolved = false;
  const expanded = source?.replace(/\{([A-Z][A-Z0-9_]*)\}/g, (whole, name: string) => {
    if (!known(name)) return whole;
    const found = value(name);
    if (typeof found === 'string' || typeof found === 'number') return String(found);
    unresolved = true;
    return whole;
  });
  return unresolved ? null : expanded;
}

/**
 * Parses one set of variables from the environment; problems are pushed to `problems` (prefixed by the variable's
 * name) instead of thrown, so every problem of every module is reported together. With `production`, each
 * variable's production refusal runs too.
 */
export function parseVariables(
  spec: ConfigSpec,
  env: Record<string, string | undefined>,
  problems: string[],
  context: ParseContext = {},
): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  const references = context.references ?? {};
  const known = (name: string) => Object.hasOwn(values, name) || Object.hasOwn(references, name);
  const value = (name: string) => (Object.hasOwn(values, name) ? values[name] : references[name]);
  for (const [name, variable] of Object.entries(spec)) {
    const raw = env[name];
    const unexpanded = raw === undefined || raw === '' ? variable.fallback : raw;
    const source = variable.secret ? unexpanded : expandReferences(unexpanded, known, value);
    if (source === null) continue;
    if (source === undefined) {
      values[name] = undefined;
      continue;
    }
    try {
      values[name] = variable.parse(source);
    } catch (error) {
      problems.push(`${name} ${error instanceof ConfigProblem ? error.message : String(error)}`);
    }
  }
  if (context.production)
    for (const [name, variable] of Object.entries(spec)) {
      if (!variable.inProduction || !Object.hasOwn(values, name)) continue;
      const problem = variable.inProduction(values[name], values, name);
      if (problem) problems.push(problem);
    }
  return Object.freeze(values);
}
