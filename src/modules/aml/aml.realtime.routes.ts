/**
 * Staff routes of the AML realtime area: rules (`/api/v1/aml/rules`: aml:read to read, aml:rules to change) and held
 * payments (`/api/v1/aml/held`: aml:read to list, aml:decide to release or reject). Customers and agent operators
 * never pass (tipping-off): every route needs an `aml:*` permission.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf } from '../../platform/http.ts';
import type { HeldPayments } from './aml.realtime.held.ts';
import {
  HeldListQuery,
  HeldPage,
  HeldParams,
  HeldResolution,
  HeldView,
  RejectBody,
  RuleChangeBody,
  RuleCodeParams,
  RuleCreateBody,
  RuleList,
  RuleListQuery,
  RuleModeBody,
  RuleView,
  RuleWithVersions,
} from './aml.realtime.schemas.ts';
import type { AmlRules } from './aml.rules.service.ts';

const TAGS = ['aml'];
const LANGUAGE =
  'The rule language is documented in the API guide and src/modules/aml/aml.rules.ts: a realtime definition is ' +
  '{ conditions: [...] } (all-of; payment: amount per currency, type, channel, counterparty_new, countries; ' +
  'customer: kyc_tier, risk_band, account_age_days, pep; aggregate: subject customer|wallet|device|agent|' +
  'counterparty, measure count|sum|distinct_counterparties, window 1h|24h|7d); a scenario definition is ' +
  '{ params: {...} }. A definition that breaks it is a 422 AML_RULE_INVALID and is not stored.';

export function rulesRoutes(rules: AmlRules): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/aml/rules',
      {
        config: { access: { permission: 'aml:read' } },
        schema: {
          operationId: 'listAmlRules',
          tags: TAGS,
          summary: 'AML rules: the current version of each (filters: kind, mode)',
          querystring: RuleListQuery,
          response: { 200: RuleList },
        },
      },
      async (request) => rules.list(request.query),
    );

    app.get(
      '/api/v1/aml/rules/:code',
      {
        config: { access: { permission: 'aml:read' }, errors: ['AML_RULE_NOT_FOUND'] },
        schema: {
          operationId: 'getAmlRule',
          tags: TAGS,
          summary: 'One AML rule: its current version and every version',
          params: RuleCodeParams,
          response: { 200: RuleWithVersions },
        },
      },
      async (request) => rules.get(request.params.code),
    );

    app.post(
      '/api/v1/aml/rules',
      {
        config: { access: { permission: 'aml:rules' }, errors: ['AML_RULE_EXISTS', 'AML_RULE_INVALID'] },
        schema: {
          operationId: 'createAmlRule',
          tags: TAGS,
          summary: 'Create an AML rule (version 1)',
          description: LANGUAGE,
          body: RuleCreateBody,
          response: { 201: RuleView },
        },
      },
      async (request, reply) => reply.code(201).send(await rules.create(request.body, contextOf(request))),
    );

    app.patch(
      '/api/v1/aml/rules/:code',
      {
        config: {
          access: { permission: 'aml:rules' },
          errors: ['AML_RULE_NOT_FOUND', 'AML_RULE_INVALID', 'AML_RULE_EXISTS'],
        },
        schema: {
          operationId: 'addAmlRuleVersion',
          tags: TAGS,
          summary: 'Add a version of an AML rule (the given fields replace the current version’s)',
          description: `The current version is superseded; decisions and alerts name the version that fired. ${LANGUAGE}`,
          params: RuleCodeParams,
          body: RuleChangeBody,
          response: { 200: RuleView },
        },
      },
      async (request) => rules.addVersion(request.params.code, request.body, contextOf(request)),
    );

    app.post(
      '/api/v1/aml/rules/:code/mode',
      {
        config: { access: { permission: 'aml:rules' }, errors: ['AML_RULE_NOT_FOUND', 'AML_RULE_EXISTS'] },
        schema: {
          operationId: 'setAmlRuleMode',
          tags: TAGS,
          summary: 'Change an AML rule’s mode (active, test, disabled): a new version',
          params: RuleCodeParams,
          body: RuleModeBody,
          response: { 200: RuleView },
        },
      },
      async (request) => rules.setMode(request.params.code, request.body.mode, contextOf(request)),
    );
  };
}

export function heldRoutes(held: HeldPayments): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/aml/held',
      {
        config: { access: { permission: 'aml:read' } },
        schema: {
          operationId: 'listAmlHeldPayments',
          tags: TAGS,
          summary: 'Payments held for AML review and not yet resolved, oldest due first',
          querystring: HeldListQuery,
          response: { 200: HeldPage },
        },
      },
      async (request) => held.list(request.query),
    );

    app.get(
      '/api/v1/aml/held/:transactionId',
      {
        config: { access: { permission: 'aml:read' }, errors: ['AML_HELD_NOT_FOUND'] },
        schema: {
          operationId: 'getAmlHeldPayment',
          tags: TAGS,
          summary: 'One payment held for AML review (resolved or not), with the rules that fired',
          params: HeldParams,
          response: { 200: HeldView },
        },
      },
      async (request) => held.get(request.params.transactionId),
    );

    app.post(
      '/api/v1/aml/held/:transactionId/release',
      {
        config: {
          access: { permission: 'aml:decide' },
          errors: ['AML_HELD_NOT_FOUND', 'AML_HELD_RESOLVED', 'NOT_FOUND'],
        },
        schema: {
          operationId: 'releaseAmlHeldPayment',
          tags: TAGS,
          summary: 'Release a held payment: its ledger hold posts and the payee is credited',
          params: HeldParams,
          response: { 200: HeldResolution },
        },
      },
      async (request) => held.release(request.params.transactionId, contextOf(request)),
    );

    app.post(
      '/api/v1/aml/held/:transactionId/reject',
      {
        config: {
          access: { permission: 'aml:decide' },
          errors: ['AML_HELD_NOT_FOUND', 'AML_HELD_RESOLVED', 'NOT_FOUND'],
        },
        schema: {
          operationId: 'rejectAmlHeldPayment',
          tags: TAGS,
          summary: 'Reject a held payment: its ledger hold is voided and the payer’s funds are free again',
          params: HeldParams,
          body: RejectBody,
          response: { 200: HeldResolution },
        },
      },
      async (request) => held.reject(request.params.transactionId, request.body.reason, contextOf(request)),
    );
  };
}
