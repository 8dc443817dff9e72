/**
 * X-Twilio-Signature against Twilio's documented example, and verification refusing anything altered.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { twilioSignature, verifyTwilioSignature } from './twilio.signature.ts';

// Twilio's documented example (twilio.com/docs/usage/security, and the twilio-node webhook tests).
const AUTH_TOKEN = '12345';
const URL_WITH_QUERY = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const PARAMS: Record<string, string> = {
  CallSid: 'CA1234567890ABCDE',
  Caller: '+12349013030',
  Digits: '1234',
  From: '+12349013030',
  To: '+18005551212',
};
const EXPECTED = '0/KCTR6DLpKmkAf8muzZqo1nDgQ=';

describe('twilioSignature', () => {
  test("produces Twilio's documented signature", () => {
    assert.equal(twilioSignature(AUTH_TOKEN, URL_WITH_QUERY, PARAMS), EXPECTED);
  });

  test('sorts the parameters, whatever order they come in', () => {
    const reversed = Object.fromEntries(Object.entries(PARAMS).reverse());
    assert.equal(twilioSignature(AUTH_TOKEN, URL_WITH_QUERY, reversed), EXPECTED);
  });

  test('with no parameters signs the URL alone', () => {
    assert.equal(
      twilioSignature(AUTH_TOKEN, URL_WITH_QUERY, {}),
      // base64(HMAC-SHA1('12345', URL)), computed independently with Python's hmac.
      'zYQTYrRWXE7LtzbG4PfP7/bkkGo=',
    );
  });
});

describe('verifyTwilioSignature', () => {
  test('accepts the documented signature', () => {
    assert.equal(verifyTwilioSignature(AUTH_TOKEN, URL_WITH_QUERY, PARAMS, EXPECTED), true);
  });

  test('rejects a tampered parameter, an added one and a removed one', () => {
    assert.equal(
      verifyTwilioSignature(AUTH_TOKEN, URL_WITH_QUERY, { ...PARAMS, Digits: '1235' }, EXPECTED),
      false,
    );
    assert.equal(
      verifyTwilioSignature(AUTH_TOKEN, URL_WITH_QUERY, { ...PARAMS, Extra: '' }, EXPECTED),
      false,
    );
    const { Digits: _removed, ...fewer } = PARAMS;
    assert.equal(verifyTwilioSignature(AUTH_TOKEN, URL_WITH_QUERY, fewer, EXPECTED), false);
  });

  test('rejects a different URL (query, scheme) and a wrong token', () => {
    assert.equal(
      verifyTwilioSignature(AUTH_TOKEN, 'https://mycompany.com/myapp.php?foo=1&bar=3', PARAMS, EXPECTED),
      false,
    );
    assert.equal(
      verifyTwilioSignature(AUTH_TOKEN, 'http://mycompany.com/myapp.php?foo=1&bar=2', PARAMS, EXPECTED),
      false,
    );
    assert.equal(verifyTwilioSignature('12346', URL_WITH_QUERY, PARAMS, EXPECTED), false);
  });

  test('rejects a missing or malformed header without throwing', () => {
    for (const header of [
      undefined,
      null,
      '',
      'garbage',
      EXPECTED.slice(0, -1),
      `${EXPECTED}=`,
      `${EXPECTED} `,
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!=',
      [EXPECTED],
    ]) {
      assert.equal(verifyTwilioSignature(AUTH_TOKEN, URL_WITH_QUERY, PARAMS, header), false, String(header));
    }
  });
});
