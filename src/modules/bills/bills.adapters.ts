/**
 * Biller adapters: how a customer's account reference with a biller (meter number, smartcard, water account) is
 * checked before money moves. A biller row names its adapter; adding a biller with an adapter this build does not
 * know is refused, so no payment ever reaches a biller that cannot be validated. Adapters that call a biller's API
 * (account-name lookup) implement the same interface and are registered here.
 */
import { luhnCheckDigit } from '../../platform/ids.ts';
import { billErrors } from './bills.errors.ts';

export interface BillValidation {
  valid: boolean;
  /** The name the biller holds the account under, when the adapter can ask the biller. */
  account_name?: string;
  /** Why the reference was refused: `format`, `check_digit` … */
  reason?: string;
}

export interface BillerAdapter {
  validate(reference: string): Promise<BillValidation>;
}

/** What an adapter is built from (a biller row or a biller being created). */
export interface BillerSpec {
  code: string;
  adapter: string;
  referencePattern: string;
}

const MAX_PATTERN_LENGTH = 200;
export const MAX_REFERENCE_LENGTH = 64;

/**
 * Compiles a staff-supplied pattern. It must be written anchored (`^…$`); it is compiled inside a further anchored
 * group so an alternation such as `^a|b$` cannot match a substring.
 */
export function compileReferencePattern(pattern: string): RegExp {
  if (pattern.length === 0 || pattern.length > MAX_PATTERN_LENGTH)
    throw billErrors.invalidPattern(`must be 1–${MAX_PATTERN_LENGTH} characters`);
  if (!pattern.startsWith('^') || !pattern.endsWith('$') || pattern.endsWith('\\$'))
    throw billErrors.invalidPattern('must be anchored: start with ^ and end with $');
  const unsafe = backtrackingHazard(pattern);
  if (unsafe) throw billErrors.invalidPattern(unsafe);
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (error) {
    throw billErrors.invalidPattern(error instanceof Error ? error.message : 'does not compile');
  }
}

const UNBOUNDED = /^(?:[*+]|\{\d+,\d*\})/;

/**
 * Patterns come from staff and run on customer input, so a catastrophic-backtracking pattern (`^(a+)+$`) would stall
 * the server: repetition of a group that itself repeats or alternates is refused, as are back-references and
 * lookarounds. What is left (classes, literals, bounded and single-level repetition) runs in linear-ish time on
 * references of at most MAX_REFERENCE_LENGTH characters.
 */
export function backtrackingHazard(pattern: string): string | null {
  if (/\\[1-9]|\\k</.test(pattern)) return 'back-references are not allowed';
  if (/\(\?<?[=!]/.test(pattern)) return 'lookarounds are not allowed';
  const groups: { repeats: boolean; alternates: boolean }[] = [];
  for (let index = 0; index < pattern.length; index += 1) {
    const char = pattern[index]!;
    if (char === '\\') {
      index += 1;
      continue;
    }
    if (char === '[') {
      // Skip the character class: nothing inside it repeats.
      for (index += 1; index < pattern.length && pattern[index] !== ']'; index += 1)
        if (pattern[index] === '\\') index += 1;
      continue;
    }
    if (char === '(') {
      groups.push({ repeats: false, alternates: false });
      continue;
    }
    const group = groups.at(-1);
    if (char === '|' && group) group.alternates = true;
    if (group && (char === '*' || char === '+' || (char === '{' && UNBOUNDED.test(pattern.slice(index)))))
      group.repeats = true;
    if (char === ')') {
      const closed = groups.pop();
      if (!closed) return 'unbalanced parentheses';
      const after = pattern.slice(index + 1);
      if (UNBOUNDED.test(after) && (closed.repeats || closed.alternates))
        return 'a repeated group must not itself repeat or alternate (catastrophic backtracking)';
      const parent = groups.at(-1);
      if (parent && (closed.repeats || UNBOUNDED.test(after))) parent.repeats = true;
    }
  }
  return groups.length > 0 ? 'unbalanced parentheses' : null;
}

/** Customers type meter numbers with spaces ("1234 5678 901"); the biller knows them without. */
export function normaliseReference(reference: string): string {
  return reference.replace(/\s+/g, '');
}

/** The Luhn (mod 10) check used by STS prepaid meter numbers and many account numbers. */
export function luhnValid(digits: string): boolean {
  if (!/^[0-9]{2,}$/.test(digits)) return false;
  return luhnCheckDigit(digits.slice(0, -1)) === Number(digits.slice(-1));
}

/** Validates against the biller's anchored pattern, and optionally the Luhn check digit (meter numbers). */
export class PatternAdapter implements BillerAdapter {
  readonly #pattern: RegExp;
  readonly #luhn: boolean;

  constructor(pattern: string, luhn: boolean) {
    this.#pattern = compileReferencePattern(pattern);
    this.#luhn = luhn;
  }

  async validate(reference: string): Promise<BillValidation> {
    if (reference.length === 0 || reference.length > MAX_REFERENCE_LENGTH || !this.#pattern.test(reference))
      return { valid: false, reason: 'format' };
    if (this.#luhn && !luhnValid(reference)) return { valid: false, reason: 'check_digit' };
    return { valid: true };
  }
}

type AdapterFactory = (biller: BillerSpec) => BillerAdapter;

const ADAPTERS: ReadonlyMap<string, AdapterFactory> = new Map<string, AdapterFactory>([
  ['pattern', (biller) => new PatternAdapter(biller.referencePattern, false)],
  ['pattern_luhn', (biller) => new PatternAdapter(biller.referencePattern, true)],
]);

export const ADAPTER_NAMES = [...ADAPTERS.keys()];

/** The adapter a biller names; unknown names are refused (422) so they never reach the database. */
export function adapterFor(biller: BillerSpec): BillerAdapter {
  const factory = ADAPTERS.get(biller.adapter);
  if (!factory) throw billErrors.unknownAdapter(biller.adapter, ADAPTER_NAMES);
  return factory(biller);
}
