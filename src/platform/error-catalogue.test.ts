/**
 * defineErrors: a catalogue's factories make AppErrors with the definition's status and message (its template filled
 * from `params`); collectErrorCatalogue refuses a code declared twice, naming both modules. The `@ts-expect-error`
 * lines are the type-level half: `npm run check` fails if a free string, another status or a missing parameter
 * compiles.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  AppError,
  collectErrorCatalogue,
  DuplicateErrorCodeError,
  defineErrors,
  type ErrorCatalogue,
  platformErrorCatalogue,
  renderMessage,
} from './error-catalogue.ts';
import { errorBody } from './errors.ts';

describe('a catalogue factory', () => {
  test('makes the AppError of its code: status, message template filled, details and headers', () => {
    const error = platformErrorCatalogue.UNSUPPORTED_CURRENCY({
      params: { currency: 'XYZ' },
      details: { currency: 'XYZ' },
    });
    assert.ok(error instanceof AppError);
    assert.equal(error.statusCode, 422);
    assert.equal(error.errorCode, 'UNSUPPORTED_CURRENCY');
    assert.equal(error.message, 'Currency XYZ is not supported');
    assert.deepEqual(errorBody(error, 'req-1'), {
      status_code: 422,
      error_code: 'UNSUPPORTED_CURRENCY',
      message: 'Currency XYZ is not supported',
      details: { currency: 'XYZ' },
      request_id: 'req-1',
    });
    const busy = platformErrorCatalogue.SERVICE_UNAVAILABLE({ headers: { 'retry-after': '5' } });
    assert.equal(busy.message, 'A dependency is unavailable');
    assert.deepEqual(busy.headers, { 'retry-after': '5' });
    assert.equal(busy.details, null);
  });

  test('takes a message of its own where the wording does not fit, keeping code and status', () => {
    const error = platformErrorCatalogue.NOT_FOUND({ message: 'Route GET /x not found' });
    assert.equal(error.statusCode, 404);
    assert.equal(error.message, 'Route GET /x not found');
  });

  test('a placeholder without its parameter is a programming error, not a garbled message', () => {
    assert.equal(renderMessage('{a} and {b}', { a: 1, b: 2n }), '1 and 2');
    assert.throws(() => renderMessage('The wallet is {status}', {}), /needs the parameter status/);
  });

  test('codes are UPPER_SNAKE_CASE and statuses 4xx or 5xx', () => {
    // Checked at run time as well: a catalogue built from data the types did not see.
    assert.throws(
      () => defineErrors('demo', { bad_code: { status: 400, message: 'm', description: 'd' } } as never),
      /demo: error code "bad_code" is not UPPER_SNAKE_CASE/,
    );
    assert.throws(
      () => defineErrors('demo', { NOT_FOUND: { status: 302, message: 'm', description: 'd' } } as never),
      /demo: error code NOT_FOUND has status 302/,
    );
  });
});

describe('the collected catalogue', () => {
  const wallets: ErrorCatalogue = {
    module: 'wallets',
    definitions: { WALLET_CLOSED: { status: 409, message: 'Closed', description: 'Closed.' } },
  };

  test('has every code once, with its module', () => {
    const catalogue = collectErrorCatalogue([platformErrorCatalogue, wallets]);
    assert.equal(catalogue.get('WALLET_CLOSED')?.module, 'wallets');
    assert.equal(catalogue.get('NOT_FOUND')?.module, 'platform');
    assert.equal(catalogue.get('NOT_FOUND')?.status, 404);
  });

  test('refuses a code that two catalogues declare, naming both modules', () => {
    const loans: ErrorCatalogue = {
      module: 'loans',
      definitions: { WALLET_CLOSED: { status: 422, message: 'Other', description: 'Other.' } },
    };
    assert.throws(
      () => collectErrorCatalogue([platformErrorCatalogue, wallets, loans]),
      (error: unknown) =>
        error instanceof DuplicateErrorCodeError &&
        /WALLET_CLOSED is declared twice: by wallets and by loans/.test(error.message),
    );
  });
});

/** Never called: compiled by `npm run check`, where each marked line must fail to compile. */
export function typeLevelChecks(): void {
  // @ts-expect-error a free string is not an error code
  new AppError(400, 'NOT_A_DECLARED_CODE', 'no');
  // @ts-expect-error a declared code with another status than its definition's
  new AppError(400, 'NOT_FOUND', 'no');
  // @ts-expect-error the template has {entity}: params (or a message of the call's own) are required
  platformErrorCatalogue.NOT_FOUND({});
  // @ts-expect-error a parameter the template does not have
  platformErrorCatalogue.UNSUPPORTED_CURRENCY({ params: { code: 'XYZ' } });
  // @ts-expect-error the factory's error carries its own code, not another
  const wrong: AppError<'VALIDATION_ERROR'> = platformErrorCatalogue.BAD_REQUEST();
  void wrong;
  // A module's code is known only once its errors file adds it to ErrorCodes by declaration merging.
  // @ts-expect-error codes outside ErrorCodes cannot be defined
  defineErrors('demo', { UNDECLARED_DEMO_CODE: { status: 409, message: 'm', description: 'd' } });
}
