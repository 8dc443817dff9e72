/**
 * The OpenAPI document is the contract: it is committed and up to date, valid OpenAPI 3.1, and complete enough for a
 * generated client (Idempotency-Key, multipart bodies, named responses with examples, security, error codes).
 * Regenerate with `npm run openapi:write`.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, test } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import Fastify, { type RouteOptions } from 'fastify';
import { API_ERRORS } from '../../src/api-errors.ts';
import { API_EXAMPLES } from '../../src/api-examples.ts';
import { errorCatalogue, isErrorCode } from '../../src/errors.ts';
import { walletErrorCatalogue } from '../../src/modules/wallets/index.ts';
import { generateOpenApiDocument, OPENAPI_PATH } from '../../src/openapi.ts';
import { documentOperation } from '../../src/platform/api-contract.ts';
import { ErrorContractRecorder, registerErrorContract } from '../../src/platform/error-contract.ts';
import { type AppError, type ErrorCode, errorBody } from '../../src/platform/errors.ts';

type Json = Record<string, unknown>;
interface Operation extends Json {
  operationId: string;
  parameters?: Array<{ in: string; name: string; required?: boolean; schema?: Json; example?: unknown }>;
  requestBody?: { description?: string; content: Record<string, { schema: Json; example?: unknown }> };
  responses: Record<
    string,
    { description: string; headers?: Record<string, unknown>; content?: Record<string, Json> }
  >;
  security?: Array<Record<string, string[]>>;
}

let generated = '';
let document: Json & { paths: Record<string, Record<string, Operation>>; components: Json; info: Json };
const operations: Array<{ method: string; path: string; operation: Operation }> = [];

before(async () => {
  generated = await generateOpenApiDocument();
  document = JSON.parse(generated);
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) operations.push({ method, path, operation });
  }
});

function operation(id: string): Operation {
  const found = operations.find((entry) => entry.operation.operationId === id);
  assert.ok(found, `operation ${id} is documented`);
  return found.operation;
}

test('openapi/openapi.json is up to date with the routes and schemas', () => {
  const committed = readFileSync(OPENAPI_PATH, 'utf8');
  assert.ok(
    generated === committed,
    'openapi/openapi.json drifted from the code: run `npm run openapi:write` and commit the result',
  );
});

test('the document is valid OpenAPI 3.1 (checked against the official JSON schema)', async () => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(document));
  assert.equal(validator.version, '3.1');
  assert.ok(result.valid, JSON.stringify(result.errors, null, 2)?.slice(0, 4000));
  // The check can fail: a response without its required description is refused.
  const broken = structuredClone(document);
  const first = Object.values(broken.paths)[0] as Record<string, Operation>;
  delete (Object.values(first)[0] as { responses: Record<string, { description?: string }> }).responses['200']
    ?.description;
  const refused = await new Validator().validate(broken);
  assert.equal(refused.valid, false);
});

test('money POSTs declare Idempotency-Key (required where the idempotency hook requires it)', () => {
  for (const id of [
    'transferFunds',
    'depositCash',
    'withdrawCash',
    'payMerchant',
    'payBill',
    'addTransaction',
  ]) {
    const header = operation(id).parameters?.find((parameter) => parameter.name === 'Idempotency-Key');
    assert.ok(header, `${id} declares Idempotency-Key`);
    assert.equal(header.in, 'header');
    assert.equal(header.required, true, `${id} requires Idempotency-Key`);
  }
  const optional = operation('createWallet').parameters?.find(
    (parameter) => parameter.name === 'Idempotency-Key',
  );
  assert.equal(optional?.required, false);
  assert.equal(
    operation('getMe').parameters?.some((parameter) => parameter.name === 'Idempotency-Key') ?? false,
    false,
  );
  // Replays are marked on every response of an idempotent operation.
  assert.ok(operation('transferFunds').responses['201']?.headers?.['Idempotent-Replayed']);
});

test('the header is derived from the route config the idempotency hook reads', () => {
  const route = (idempotency?: 'required' | 'optional') =>
    documentOperation(
      {
        method: 'POST',
        url: '/x',
        handler: async () => null,
        config: { access: { public: true }, ...(idempotency ? { idempotency } : {}) },
        schema: { operationId: 'x', response: { 200: { type: 'object', properties: {} } } },
      } as RouteOptions,
      { examples: {}, errors: errorCatalogue() },
    ) as { headers?: { required?: string[]; properties?: Json } };
  assert.deepEqual(route('required').headers?.required, ['Idempotency-Key']);
  assert.deepEqual(route('optional').headers?.required, []);
  assert.ok(route('optional').headers?.properties?.['Idempotency-Key']);
  assert.equal(route().headers, undefined);
});

test('Retry-After is documented on every 429 and 503 response', () => {
  for (const { operation: op } of operations) {
    for (const status of ['429', '503']) {
      const response = op.responses[status];
      if (response)
        assert.ok(response.headers?.['Retry-After'], `${op.operationId} ${status} has Retry-After`);
    }
  }
});

test('the document upload describes its multipart body: the fields, then the file', () => {
  const body = operation('uploadDocument').requestBody;
  assert.ok(body, 'uploadDocument has a request body');
  const form = body.content['multipart/form-data'];
  assert.ok(form, 'as multipart/form-data');
  const properties = form.schema.properties as Record<string, Json>;
  assert.deepEqual(Object.keys(properties), ['customer_id', 'document_type', 'file']);
  assert.equal(properties.file?.format, 'binary');
  assert.deepEqual(form.schema.required, ['customer_id', 'document_type', 'file']);
  assert.match(String(body.description), /before the file/);
});

test('every response is named and every JSON response has an example', () => {
  const missing: string[] = [];
  for (const { operation: op } of operations) {
    for (const [status, response] of Object.entries(op.responses)) {
      const where = `${op.operationId} ${status}`;
      if (!response.description || response.description === 'Default Response')
        missing.push(`${where}: name`);
      const json = response.content?.['application/json'];
      if (json && json.example === undefined && json.examples === undefined)
        missing.push(`${where}: example`);
    }
    const body = op.requestBody?.content?.['application/json'];
    if (body && body.example === undefined) missing.push(`${op.operationId} request: example`);
  }
  assert.deepEqual(missing, []);
});

test('every example validates against its schema', () => {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  for (const format of ['int64', 'pem', 'der', 'jwk', 'binary']) ajv.addFormat(format, true);
  const base = 'https://contract.test/openapi.json';
  ajv.addSchema({ $id: base, components: document.components });
  const rewrite = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(rewrite);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value).map(([key, item]) => [
          key,
          key === '$ref' && typeof item === 'string' ? `${base}${item}` : rewrite(item),
        ]),
      );
    }
    return value;
  };
  const sharedExamples = (document.components.examples ?? {}) as Record<string, { value?: unknown }>;
  const invalid: string[] = [];
  const check = (where: string, schema: Json, value: unknown) => {
    const validate = ajv.compile(rewrite(schema) as Json);
    if (!validate(value)) invalid.push(`${where}: ${ajv.errorsText(validate.errors)}`);
  };
  for (const { operation: op } of operations) {
    const body = op.requestBody?.content?.['application/json'];
    if (body && body.example !== undefined) check(`${op.operationId} request`, body.schema, body.example);
    for (const parameter of op.parameters ?? []) {
      if (parameter.example !== undefined && parameter.schema)
        check(`${op.operationId} ${parameter.name}`, parameter.schema, parameter.example);
    }
    for (const [status, response] of Object.entries(op.responses)) {
      const json = response.content?.['application/json'] as
        | { schema: Json; example?: unknown; examples?: Record<string, { value?: unknown; $ref?: string }> }
        | undefined;
      if (!json) continue;
      if (json.example !== undefined) check(`${op.operationId} ${status}`, json.schema, json.example);
      for (const [name, example] of Object.entries(json.examples ?? {})) {
        const shared = example.$ref
          ? sharedExamples[example.$ref.replace('#/components/examples/', '')]
          : example;
        assert.ok(shared, `${op.operationId} ${status} ${name}: ${example.$ref} exists`);
        check(`${op.operationId} ${status} ${name}`, json.schema, shared.value);
      }
    }
  }
  assert.deepEqual(invalid, []);
});

test('every secured operation names its security scheme; public ones say so', () => {
  const schemes = (document.components.securitySchemes ?? {}) as Record<string, unknown>;
  assert.ok(schemes.bearerAuth, 'bearerAuth is defined');
  for (const { operation: op } of operations) {
    assert.ok(Array.isArray(op.security), `${op.operationId} declares its security`);
    for (const requirement of op.security)
      for (const name of Object.keys(requirement))
        assert.ok(schemes[name], `${op.operationId}: ${name} defined`);
    // Secured operations answer 401; public ones have no security requirement.
    if (op.security.length > 0) assert.ok(op.responses['401'], `${op.operationId} documents 401`);
  }
  assert.deepEqual(operation('transferFunds').security, [{ bearerAuth: [] }]);
  assert.deepEqual(operation('login').security, []);
});

test('the WebSocket is described in the document description', () => {
  const description = String(document.info.description);
  assert.match(description, /\/api\/v1\/ws/);
  assert.match(description, /WebSocket/);
});

function documentedCodes(op: Operation): Map<string, number> {
  const codes = new Map<string, number>();
  for (const [status, response] of Object.entries(op.responses)) {
    const schema = response.content?.['application/json']?.schema as
      | { properties?: { error_code?: { enum?: string[] } } }
      | undefined;
    for (const code of schema?.properties?.error_code?.enum ?? []) codes.set(code, Number(status));
  }
  return codes;
}

test('each error response lists its error_code values, each from the catalogue with its status and an example', () => {
  const examples = (document.components.examples ?? {}) as Record<string, { value: { error_code: string } }>;
  for (const { operation: op } of operations) {
    const codes = documentedCodes(op);
    assert.ok(codes.size > 0, `${op.operationId} lists error codes`);
    for (const [code, status] of codes) {
      assert.ok(isErrorCode(code), `${op.operationId}: ${code} is in the catalogue`);
      assert.equal(status, errorCatalogue().get(code)?.status, `${op.operationId}: ${code} under its status`);
      assert.equal(examples[code]?.value.error_code, code, `${code} has an example`);
    }
  }
  const transfer = documentedCodes(operation('transferFunds'));
  for (const code of ['INSUFFICIENT_BALANCE', 'LIMIT_EXCEEDED', 'OTP_REQUIRED', 'IDEMPOTENCY_KEY_REQUIRED'])
    assert.ok(transfer.has(code), `transferFunds documents ${code}`);
  assert.ok(documentedCodes(operation('login')).has('INVALID_CREDENTIALS'));
  assert.ok(documentedCodes(operation('getMe')).has('TOKEN_REVOKED'), 'generic codes are added');
});

test('every declaration of src/api-errors.ts names an operation (modules declare theirs on the route)', () => {
  const ids = new Set(operations.map(({ operation: op }) => op.operationId));
  assert.deepEqual(
    Object.keys(API_ERRORS).filter((id) => !ids.has(id)),
    [],
    'declarations of no operation',
  );
});

test('an answer with an undeclared error code breaks the contract (the harness fails the file)', async () => {
  const app = Fastify();
  const recorder = new ErrorContractRecorder();
  registerErrorContract(app, recorder);
  app.setErrorHandler((error: AppError, request, reply) =>
    reply.code(error.statusCode).send(errorBody(error, request.id)),
  );
  const throwing = (errors: ErrorCode[]) => ({
    config: { access: { public: true } as const, errors },
    handler: async () => {
      throw walletErrorCatalogue.WALLET_EXISTS();
    },
  });
  app.post('/declared', throwing(['WALLET_EXISTS']));
  app.post('/undeclared', throwing([]));
  await app.inject({ method: 'POST', url: '/declared' });
  assert.equal(recorder.report(), null);
  const generic = await app.inject({
    method: 'POST',
    url: '/undeclared',
    payload: '{',
    headers: { 'content-type': 'application/json' },
  });
  assert.equal(generic.statusCode, 400, 'a generic code (malformed body) needs no declaration');
  assert.equal(recorder.report(), null);
  await app.inject({ method: 'POST', url: '/undeclared' });
  assert.match(String(recorder.report()), /POST \/undeclared answered 409 WALLET_EXISTS/);
  await app.close();
});

test('the main journeys carry their curated examples', () => {
  const journeys = [
    'login',
    'createCustomer',
    'initiateKyc',
    'uploadDocument',
    'submitKyc',
    'reviewKyc',
    'createWallet',
    'depositCash',
    'setCustomerPin',
    'customerLogin',
    'transferFunds',
    'getTransactionReceipt',
    'openDispute',
  ];
  for (const id of journeys) {
    const curated = API_EXAMPLES[id];
    assert.ok(curated, `${id} has curated examples`);
    const op = operation(id);
    if (curated.request !== undefined) {
      const media = Object.values(op.requestBody?.content ?? {})[0];
      assert.deepEqual(media?.example, curated.request, `${id} request example`);
    }
    for (const [status, value] of Object.entries(curated.responses ?? {})) {
      const example = op.responses[status]?.content?.['application/json']?.example as Json | undefined;
      for (const [key, field] of Object.entries(value as Json))
        assert.deepEqual(example?.[key], field, `${id} ${status} example has the curated ${key}`);
    }
  }
  const examples = document.components.examples as Record<string, { value: { details: unknown } }>;
  assert.deepEqual(examples.INSUFFICIENT_BALANCE?.value.details, {
    required: 152875,
    available: 100000,
    deficit: 52875,
  });
});
