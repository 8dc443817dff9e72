/** Assertions for tests that go through the typed client (clients/typescript). */
import assert from 'node:assert/strict';

/** The answer's body, after checking its status (the error body is shown when it differs). */
export function expectData<T>(result: { data?: T; error?: unknown; response: Response }, status: number): T {
  assert.equal(result.response.status, status, JSON.stringify(result.error));
  assert.ok(result.data !== undefined, `no body with ${status}`);
  return result.data;
}

/** The access token of a sign-in that needed no second factor. */
export function accessToken(answer: { access_token: string } | { mfa_required: true }): string {
  assert.ok('access_token' in answer, 'the login asked for a second factor');
  return answer.access_token;
}
