/**
 * Secrets that must never appear in a response: password and PIN hashes, sealed envelopes and wrapped keys, JWT
 * private keys, card numbers. Two nets: patterns (argon2/bcrypt hashes, PEM or JWK private keys, field names of
 * stored secrets, 13–19 digit numbers passing Luhn with a card prefix), and the actual secret values read from
 * the database and the configuration at the end of the run, searched for verbatim.
 */
import pg from 'pg';
import type { TestContext } from '../../helpers/app.ts';

export interface RecordedResponse {
  /** `METHOD path` of the operation. */
  operation: string;
  principal: string;
  status: number;
  body: string;
  /** What was sent (URL and body): a number the client sent itself and got back is not a leak. */
  request?: string;
}

export interface SecretHit {
  operation: string;
  principal: string;
  status: number;
  kind: string;
  excerpt: string;
}

const PATTERNS: [string, RegExp][] = [
  ['argon2 hash', /\$argon2(id|i|d)\$/],
  ['bcrypt hash', /\$2[aby]\$\d\d\$/],
  ['PEM private key', /-----BEGIN [A-Z ]*PRIVATE KEY-----/],
  ['JWK private member', /"kty"\s*:\s*"[A-Z]+"[^{}]*"d"\s*:\s*"|"d"\s*:\s*"[A-Za-z0-9_-]{20,}"[^{}]*"kty"/],
  [
    'stored-secret field',
    /"(password_?hash|passwordHash|pin_?hash|pinHash|wrapped_?key|wrappedKey|private_?key(_wrapped)?|privateKey|secret_sealed|secrets_sealed|token_hash|code_hash|answer_hash|micro_deposit_hash|account_number_sealed|national_id_sealed|date_of_birth_sealed)"\s*:/,
  ],
];

/** Luhn check of a digit string. */
export function luhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let index = digits.length - 1; index >= 0; index -= 1) {
    let digit = digits.charCodeAt(index) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * 13–19 digit runs (bare or in groups of four) that start like a card number (2–6) and pass Luhn; not part of a
 * longer run, a hex hash, a decimal fraction or an exponent (metrics and audit hashes are full of those).
 */
export function panLike(text: string): string[] {
  const found: string[] = [];
  // Bare runs: not inside a hex hash, an id, a decimal fraction or an exponent.
  for (const match of text.matchAll(/(?<![0-9A-Za-z.+-])[2-6][0-9]{12,18}(?![0-9A-Za-z.])/g)) {
    if (luhn(match[0])) found.push(match[0]);
  }
  // Grouped as printed: 4111 1111 1111 1111, 4111-1111-1111-1111.
  for (const match of text.matchAll(
    /(?<![0-9A-Za-z])[2-6][0-9]{3}([ -])[0-9]{4}\1[0-9]{4}\1[0-9]{1,7}(?![0-9A-Za-z])/g,
  )) {
    const digits = match[0].replace(/[ -]/g, '');
    if (digits.length >= 13 && digits.length <= 19 && luhn(digits)) found.push(match[0]);
  }
  return found;
}

/** PAN-like numbers in the text values of a JSON body (cards travel as strings), or anywhere in other bodies. */
function panCandidates(body: string): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return panLike(body);
  }
  const found: string[] = [];
  const visit = (node: unknown) => {
    if (typeof node === 'string') found.push(...panLike(node));
    else if (Array.isArray(node)) node.forEach(visit);
    else if (node && typeof node === 'object') Object.values(node).forEach(visit);
  };
  visit(parsed);
  return found;
}

const SECRET_COLUMNS = [
  ['users', 'password_hash'],
  ['password_history', 'password_hash'],
  ['customer_credentials', 'pin_hash'],
  ['customers', 'national_id_sealed'],
  ['customers', 'date_of_birth_sealed'],
  ['documents', 'wrapped_key'],
  ['linked_bank_accounts', 'account_number_sealed'],
  ['linked_bank_accounts', 'micro_deposit_hash'],
  ['mfa_factors', 'secret_sealed'],
  ['notifications', 'secrets_sealed'],
  ['password_reset_tokens', 'token_hash'],
  ['recovery_codes', 'code_hash'],
  ['refresh_tokens', 'token_hash'],
  ['security_answers', 'answer_hash'],
  ['signing_keys', 'private_key_wrapped'],
  ['registered_devices', 'push_token'],
] as const;

/**
 * The stored secrets of the database and the configuration, to search for verbatim; `refresh()` reads them again
 * (new sessions, PINs and passwords appear as a run goes) with one query on one connection.
 */
export class SecretCatalog {
  readonly #t: TestContext;
  #client: pg.Client | null = null;
  #query: string | null = null;
  secrets = new Map<string, string>();

  constructor(t: TestContext) {
    this.#t = t;
  }

  async refresh(): Promise<Map<string, string>> {
    const secrets = new Map<string, string>();
    const add = (kind: string, value: unknown) => {
      if (typeof value === 'string' && value.length >= 12) secrets.set(value, kind);
    };
    add('HMAC pepper', this.#t.config.HMAC_PEPPER);
    add('master key', this.#t.config.MASTER_KEY.toString('base64'));
    add('master key', this.#t.config.MASTER_KEY.toString('base64url'));
    const connectionString = this.#t.deps.database.connectionString;
    if (connectionString) {
      if (!this.#client) {
        this.#client = new pg.Client({ connectionString });
        await this.#client.connect();
        const present = await this.#client.query(
          'select table_name, column_name from information_schema.columns where table_schema = current_schema()',
        );
        const columns = new Set(
          (present.rows as { table_name: string; column_name: string }[]).map(
            (row) => `${row.table_name}.${row.column_name}`,
          ),
        );
        this.#query = SECRET_COLUMNS.filter(([table, column]) => columns.has(`${table}.${column}`))
          .map(
            ([table, column]) =>
              `select '${table}.${column}' as kind, "${column}"::text as value from "${table}" where "${column}" is not null`,
          )
          .join(' union all ');
      }
      if (this.#query) {
        const rows = await this.#client.query(this.#query);
        for (const { kind, value } of rows.rows as { kind: string; value: string }[]) {
          add(kind, value);
          // Sealed JSON envelopes: their parts too.
          if (value.startsWith('{')) {
            try {
              const envelope = JSON.parse(value) as Record<string, unknown>;
              add(`${kind} (wrapped key)`, envelope.wrappedKey);
              add(`${kind} (payload)`, envelope.payload);
            } catch {
              // not JSON
            }
          }
        }
      }
    }
    this.secrets = secrets;
    return secrets;
  }

  async close(): Promise<void> {
    await this.#client?.end();
    this.#client = null;
  }
}

/** The stored secrets as of now (one-off). */
export async function knownSecrets(t: TestContext): Promise<Map<string, string>> {
  const catalog = new SecretCatalog(t);
  try {
    return await catalog.refresh();
  } finally {
    await catalog.close();
  }
}

export function scanForSecrets(responses: RecordedResponse[], known: Map<string, string>): SecretHit[] {
  const hits: SecretHit[] = [];
  const excerptOf = (body: string, at: number) => body.slice(Math.max(0, at - 40), at + 80);
  for (const response of responses) {
    const { body } = response;
    if (!body) continue;
    const hit = (kind: string, at: number) =>
      hits.push({
        operation: response.operation,
        principal: response.principal,
        status: response.status,
        kind,
        excerpt: excerptOf(body, at),
      });
    for (const [kind, pattern] of PATTERNS) {
      const match = pattern.exec(body);
      if (match) hit(kind, match.index);
    }
    for (const pan of panCandidates(body)) {
      if (!response.request?.includes(pan)) hit('PAN-like number (Luhn)', body.indexOf(pan));
    }
    for (const [value, kind] of known) {
      const at = body.indexOf(value);
      if (at >= 0) hit(`stored secret: ${kind}`, at);
    }
  }
  return hits;
}
