/**
 * Password policy after NIST SP 800-63B / ASVS 5: a length range (no truncation, any Unicode), a bundled
 * common-password blocklist, no passwords built from the account's own names; complexity rules optional.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
  /** The original system's rules (upper, lower, digit, symbol); off by default as NIST advises. */
  requireComplexity: boolean;
}

let blocklist: Set<string> | undefined;

function commonPasswords(): Set<string> {
  if (!blocklist) {
    const file = join(import.meta.dirname, '..', '..', '..', 'seed', 'common-passwords.txt');
    blocklist = new Set(
      readFileSync(file, 'utf8')
        .split('\n')
        .map((line) => line.trim().toLowerCase())
        .filter((line) => line.length > 0 && !line.startsWith('#')),
    );
  }
  return blocklist;
}

/** Length in Unicode code points after NFKC normalisation, as NIST counts it. */
export function passwordLength(password: string): number {
  return [...password.normalize('NFKC')].length;
}

export function passwordProblems(password: string, policy: PasswordPolicy, context: string[] = []): string[] {
  const problems: string[] = [];
  const length = passwordLength(password);
  if (length < policy.minLength) problems.push(`must be at least ${policy.minLength} characters`);
  if (length > policy.maxLength) problems.push(`must be at most ${policy.maxLength} characters`);
  const lowered = password.normalize('NFKC').toLowerCase();
  if (commonPasswords().has(lowered)) problems.push('is too common');
  for (const word of context) {
    const part = word.toLowerCase().split('@')[0] ?? '';
    if (part.length >= 4 && lowered.includes(part)) {
      problems.push('must not contain your username or email');
      break;
    }
  }
  if (/^(.)\1+$/u.test(password)) problems.push('must not be one repeated character');
  if (policy.requireComplexity) {
    if (!/\p{Lu}/u.test(password)) problems.push('must contain an upper-case letter');
    if (!/\p{Ll}/u.test(password)) problems.push('must contain a lower-case letter');
    if (!/\p{Nd}/u.test(password)) problems.push('must contain a digit');
    if (!/[^\p{L}\p{Nd}]/u.test(password)) problems.push('must contain a symbol');
  }
  return problems;
}
