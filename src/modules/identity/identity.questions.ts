/**
 * Security questions as a second factor: at least three answers on file, two asked at random at login.
 * Answers are normalised (Unicode NFKC, case, spacing, punctuation) and hashed with argon2id, like passwords.
 */
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, eq } from 'drizzle-orm';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { hashPassword, verifyPassword } from '../../platform/crypto.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { PrincipalType } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { identityErrorCatalogue } from './identity.errors.ts';
import { SEED_DIR } from './identity.seed.ts';
import { securityAnswers } from './identity.tables.ts';

type PrincipalRef = { type: PrincipalType; id: string };
export interface Question {
  code: string;
  text: string;
}

export const MIN_QUESTIONS = 3;
export const ASKED_AT_LOGIN = 2;

export const questionErrors = {
  unknownQuestion: (questions: string[]) =>
    identityErrorCatalogue.UNKNOWN_QUESTION({ details: { questions } }),
  duplicateQuestion: () => identityErrorCatalogue.DUPLICATE_QUESTION(),
  notSet: () => identityErrorCatalogue.QUESTIONS_NOT_SET(),
};

let catalogue: Question[] | undefined;
export function questionCatalogue(): Question[] {
  catalogue ??= JSON.parse(readFileSync(join(SEED_DIR, 'security_questions.json'), 'utf8')) as Question[];
  return catalogue;
}

export function normaliseAnswer(answer: string): string {
  return answer
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

export class SecurityQuestions {
  readonly #db: Executor;

  constructor(db: Executor) {
    this.#db = db;
  }

  async questionsOf(principal: PrincipalRef): Promise<string[]> {
    const rows = await this.#db
      .select({ code: securityAnswers.questionCode })
      .from(securityAnswers)
      .where(
        and(eq(securityAnswers.principalType, principal.type), eq(securityAnswers.principalId, principal.id)),
      );
    return rows.map((row) => row.code).sort();
  }

  /** Two of the principal's questions, chosen with the CSPRNG. */
  async pick(principal: PrincipalRef): Promise<Question[]> {
    const codes = await this.questionsOf(principal);
    const chosen: string[] = [];
    while (chosen.length < Math.min(ASKED_AT_LOGIN, codes.length)) {
      const code = codes[randomInt(0, codes.length)]!;
      if (!chosen.includes(code)) chosen.push(code);
    }
    return chosen.map((code) => questionCatalogue().find((question) => question.code === code)!);
  }

  /** Replaces every answer on file. */
  async set(
    principal: PrincipalRef,
    answers: { question: string; answer: string }[],
    context: RequestContext,
  ) {
    const known = new Set(questionCatalogue().map((question) => question.code));
    const unknown = answers.map((item) => item.question).filter((code) => !known.has(code));
    if (unknown.length > 0) throw questionErrors.unknownQuestion(unknown);
    if (new Set(answers.map((item) => item.question)).size !== answers.length)
      throw questionErrors.duplicateQuestion();
    const hashed = await Promise.all(
      answers.map(async (item) => ({
        question: item.question,
        hash: await hashPassword(normaliseAnswer(item.answer)),
      })),
    );
    await inTransaction(this.#db, async (tx) => {
      await tx.delete(securityAnswers).where(eq(securityAnswers.principalId, principal.id));
      await tx.insert(securityAnswers).values(
        hashed.map((item) => ({
          id: uuidv7(),
          principalType: principal.type,
          principalId: principal.id,
          questionCode: item.question,
          answerHash: item.hash,
        })),
      );
      await writeAudit(tx, context, {
        action: 'mfa.security_questions_set',
        entityType: principal.type,
        entityId: principal.id,
        after: { questions: hashed.map((item) => item.question) },
      });
    });
    return this.questionsOf(principal);
  }

  async clear(principal: PrincipalRef, context: RequestContext) {
    await inTransaction(this.#db, async (tx) => {
      const removed = await tx
        .delete(securityAnswers)
        .where(eq(securityAnswers.principalId, principal.id))
        .returning();
      if (removed.length === 0) throw questionErrors.notSet();
      await writeAudit(tx, context, {
        action: 'mfa.security_questions_cleared',
        entityType: principal.type,
        entityId: principal.id,
      });
    });
  }

  /** True only when every asked question is answered, and answered right. */
  async check(
    principal: PrincipalRef,
    asked: string[],
    answers: { question: string; answer: string }[],
  ): Promise<boolean> {
    if (asked.length === 0) return false;
    const rows = await this.#db
      .select()
      .from(securityAnswers)
      .where(eq(securityAnswers.principalId, principal.id));
    let allRight = true;
    for (const code of asked) {
      const given = answers.find((item) => item.question === code);
      const stored = rows.find((row) => row.questionCode === code);
      // Every asked question is verified (no early exit), so timing does not tell which answer was wrong.
      const valid =
        stored && given
          ? (await verifyPassword(normaliseAnswer(given.answer), stored.answerHash)).valid
          : false;
      allRight &&= valid;
    }
    return allRight;
  }
}
