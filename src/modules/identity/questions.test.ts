/** Security questions: set with the password, two asked at random at login, answers normalised, all must match. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { ADMIN_PASSWORD, bearer, startTestApp, type TestContext } from '../../../test/helpers/app.ts';

const ANSWERS: Record<string, string> = {
  first_school: 'Moi Avenue Primary',
  childhood_friend: 'Wanjiru',
  first_job_town: 'Nakuru',
};

describe('security questions', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => t.close());

  const login = () =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: ADMIN_PASSWORD },
    });
  const answer = (mfa_token: string, answers: { question: string; answer: string }[]) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/verify',
      payload: { mfa_token, factor: 'security_questions', answers },
    });

  test('setting needs the password, three known distinct questions; answers are stored hashed', async () => {
    const set = (payload: object) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/2fa/questions/set',
        headers: bearer(t.adminToken),
        payload,
      });
    const answers = Object.entries(ANSWERS).map(([question, value]) => ({ question, answer: value }));
    assert.equal((await set({ password: 'wrong password here', answers })).statusCode, 401);
    assert.equal((await set({ password: ADMIN_PASSWORD, answers: answers.slice(0, 2) })).statusCode, 422);
    const unknown = await set({
      password: ADMIN_PASSWORD,
      answers: [...answers.slice(0, 2), { question: 'pet', answer: 'x' }],
    });
    assert.equal(unknown.json().error_code, 'UNKNOWN_QUESTION');
    const twice = await set({ password: ADMIN_PASSWORD, answers: [answers[0], answers[0], answers[1]] });
    assert.equal(twice.json().error_code, 'DUPLICATE_QUESTION');
    const ok = await set({ password: ADMIN_PASSWORD, answers });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.deepEqual(ok.json(), { enabled: true, questions: Object.keys(ANSWERS).sort() });
    const stored = (await t.deps.database.db.execute(
      sql`select answer_hash from security_answers`,
    )) as unknown as {
      rows: { answer_hash: string }[];
    };
    for (const row of stored.rows) assert.match(row.answer_hash, /^\$argon2id\$/);
  });

  test('login asks two of them; sloppy spelling of the right answers passes, one wrong answer fails', async () => {
    const challenge = (await login()).json();
    assert.equal(challenge.mfa_required, true);
    assert.deepEqual(challenge.factors, ['security_questions']);
    assert.equal(challenge.questions.length, 2);
    assert.notEqual(challenge.questions[0].code, challenge.questions[1].code);
    const [first, second] = challenge.questions as { code: string }[];

    const oneWrong = await answer(challenge.mfa_token, [
      { question: first!.code, answer: ANSWERS[first!.code]! },
      { question: second!.code, answer: 'definitely not it' },
    ]);
    assert.equal(oneWrong.statusCode, 401);
    const onlyOne = await answer(challenge.mfa_token, [
      { question: first!.code, answer: ANSWERS[first!.code]! },
    ]);
    assert.equal(onlyOne.statusCode, 401, 'every asked question must be answered');
    const notAsked = Object.keys(ANSWERS).find((code) => code !== first!.code && code !== second!.code)!;
    const swapped = await answer(challenge.mfa_token, [
      { question: first!.code, answer: ANSWERS[first!.code]! },
      { question: notAsked, answer: ANSWERS[notAsked]! },
    ]);
    assert.equal(swapped.statusCode, 401, 'answering a question that was not asked does not count');

    const sloppy = await answer(
      challenge.mfa_token,
      [first!, second!].map((question) => ({
        question: question.code,
        answer: `  ${ANSWERS[question.code]!.toUpperCase().replace(' ', '  ')}! `,
      })),
    );
    assert.equal(sloppy.statusCode, 200, sloppy.body);
    assert.ok(sloppy.json().access_token);
  });

  test('clearing them turns the factor off', async () => {
    const cleared = await t.app.inject({
      method: 'POST',
      url: '/api/v1/2fa/questions/clear',
      headers: bearer(t.adminToken),
      payload: { password: ADMIN_PASSWORD },
    });
    assert.equal(cleared.statusCode, 204);
    assert.ok((await login()).json().access_token);
  });
});
