/**
 * Password policy after NIST SP 800-63B / ASVS 5: a length range (no truncation, any Unicode), no composition rules
 * by default, and a strength estimate instead of a short blocklist. zxcvbn-ts (ADR 0017) scores each new password
 * against its dictionaries — common passwords, English words, first and last names, Wikipedia terms — and against
 * patterns people use (years, dates, keyboard runs, repeats, l33t), with context words that are guessable for this
 * account: the product's name, the institution's, and the user's own username, email and names. A score below
 * PASSWORD_MIN_SCORE is refused, with zxcvbn's feedback (a warning and suggestions) for the form to show.
 */
import { type FeedbackType, ZxcvbnFactory, type ZxcvbnResult } from '@zxcvbn-ts/core';
import * as common from '@zxcvbn-ts/language-common';
import * as english from '@zxcvbn-ts/language-en';

export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
  /** The smallest zxcvbn score accepted (0–4; 3: about 10^8 guesses or more). */
  minScore: number;
  /** The original system's rules (upper, lower, digit, symbol); off by default as NIST advises. */
  requireComplexity: boolean;
}

/** Words anyone attacking a password of this product would try first. */
export const PRODUCT_WORDS = ['CodeForge', 'CodeForge Suite'];

/** zxcvbn's score and its advice, for the error's details. */
export interface PasswordStrength {
  score: number;
  warning: string | null;
  suggestions: string[];
}

export interface PasswordVerdict {
  problems: string[];
  strength: PasswordStrength | null;
}

/** zxcvbn's warnings that mean "a password many people use". */
const COMMON_WARNINGS = new Set(
  (['topTen', 'topHundred', 'common', 'similarToCommon', 'pwned'] as const).map(
    (key) => english.translations.warnings[key],
  ),
);

/**
 * How many characters zxcvbn scores (its own default is 256). Its matching grows much faster than the length — a
 * 128-digit string took over a second of synchronous CPU, 256 several, and PASSWORD_MAX_LENGTH may be 1024 — and it
 * runs on the event loop for every password set, changed or reset (a reset link's holder may retry at will). What
 * follows the first 64 characters can only make a password harder to guess, so scoring the start alone never
 * accepts a weak password; a password whose first 64 characters are guessable is refused, whatever follows.
 */
export const SCORED_LENGTH = 64;

let estimator: ZxcvbnFactory | undefined;

/** Built on first use (its dictionaries take a moment to index), then shared. */
function zxcvbn(): ZxcvbnFactory {
  estimator ??= new ZxcvbnFactory({
    translations: english.translations,
    graphs: common.adjacencyGraphs,
    dictionary: { ...common.dictionary, ...english.dictionary },
    maxLength: SCORED_LENGTH,
  });
  return estimator;
}

/** Length in Unicode code points after NFKC normalisation, as NIST counts it. */
export function passwordLength(password: string): number {
  return [...password.normalize('NFKC')].length;
}

/**
 * The words zxcvbn treats as known to an attacker: each context value whole and split into its parts (an email's
 * local part and domain labels, a full name's names).
 */
export function contextWords(values: readonly (string | null | undefined)[]): string[] {
  const words = new Set<string>();
  for (const value of [...PRODUCT_WORDS, ...values]) {
    if (!value) continue;
    const lowered = value.normalize('NFKC').toLowerCase().trim();
    if (lowered.length === 0) continue;
    words.add(lowered);
    for (const part of lowered.split(/[\s@._+-]+/u)) if (part.length >= 3) words.add(part);
  }
  return [...words];
}

function strengthOf(result: ZxcvbnResult): PasswordStrength {
  const feedback: FeedbackType = result.feedback;
  return { score: result.score, warning: feedback.warning, suggestions: feedback.suggestions };
}

/**
 * Every reason the password is refused (empty: accepted) and zxcvbn's estimate. `identifiers` (username, email) may
 * not appear in the password at all; they and `context` (the user's names and phone, the institution's name; the
 * product's name is always added) are words zxcvbn counts as already known.
 */
export function checkPassword(
  password: string,
  policy: PasswordPolicy,
  identifiers: readonly (string | null | undefined)[] = [],
  context: readonly (string | null | undefined)[] = [],
): PasswordVerdict {
  const problems: string[] = [];
  const length = passwordLength(password);
  if (length < policy.minLength) problems.push(`must be at least ${policy.minLength} characters`);
  if (length > policy.maxLength) problems.push(`must be at most ${policy.maxLength} characters`);
  const normalised = password.normalize('NFKC');
  const lowered = normalised.toLowerCase();
  for (const word of identifiers) {
    const part = word?.toLowerCase().split('@')[0] ?? '';
    if (part.length >= 4 && lowered.includes(part)) {
      problems.push('must not contain your username or email');
      break;
    }
  }
  if (/^(.)\1+$/u.test(password)) problems.push('must not be one repeated character');
  let strength: PasswordStrength | null = null;
  // Past the maximum the password is refused anyway; zxcvbn's time grows with the length.
  if (length <= policy.maxLength) {
    strength = strengthOf(zxcvbn().check(normalised, contextWords([...identifiers, ...context])));
    if (strength.score < policy.minScore)
      problems.push(
        strength.warning && COMMON_WARNINGS.has(strength.warning) ? 'is too common' : 'is too easy to guess',
      );
  }
  if (policy.requireComplexity) {
    if (!/\p{Lu}/u.test(password)) problems.push('must contain an upper-case letter');
    if (!/\p{Ll}/u.test(password)) problems.push('must contain a lower-case letter');
    if (!/\p{Nd}/u.test(password)) problems.push('must contain a digit');
    if (!/[^\p{L}\p{Nd}]/u.test(password)) problems.push('must contain a symbol');
  }
  return { problems, strength };
}

/** The reasons alone (see `checkPassword`). */
export function passwordProblems(
  password: string,
  policy: PasswordPolicy,
  identifiers: readonly (string | null | undefined)[] = [],
): string[] {
  return checkPassword(password, policy, identifiers).problems;
}
