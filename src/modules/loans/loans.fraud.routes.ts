/**
 * HTTP routes of the fraud area: `/api/v1/loan/fraud/*` (checks, rules), `/api/v1/loan/fraudflag/*` (flags and
 * their investigations), `/api/v1/loan/denylist/*`. Staff with `loan:fraud_manage` only: customers never see them.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf, requirePrincipal } from '../../platform/http.ts';
import {
  DecideBody,
  DecideResult,
  DenyAddBody,
  DenyEntryView,
  DenyPage,
  DenyQuery,
  DenyRemoveBody,
  EscalateBody,
  FlagIdParams,
  FraudCheckBody,
  FraudCheckView,
  FraudFlagDetail,
  FraudFlagPage,
  FraudFlagQuery,
  FraudNoteView,
  FraudRuleList,
  FraudRuleUpdateBody,
  FraudRuleView,
  NoteBody,
} from './loans.fraud.schemas.ts';
import type { FraudService } from './loans.fraud.ts';

const TAGS = ['loans'];
const ACCESS = { permission: 'loan:fraud_manage' } as const;

export function loanFraudRoutes(fraud: FraudService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/loan/fraud/check',
      {
        config: {
          access: ACCESS,
          errors: ['LOAN_APPLICATION_NOT_FOUND', 'LOAN_PRODUCT_NOT_FOUND', 'LOAN_FRAUD_CHECK_NOT_ALLOWED'],
        },
        schema: {
          operationId: 'checkLoanFraud',
          tags: TAGS,
          summary: 'Run the fraud rules on an application again and store the check',
          description:
            'Every enabled rule runs and records its evidence; the score is the sum of the tripped rules’ ' +
            'weights. At or above the product version’s `fraud_threshold` a fraud flag opens (one undecided flag ' +
            'per application) and a submitted or referred application becomes `flagged`. The check also runs ' +
            'by itself when an application is submitted.',
          body: FraudCheckBody,
          response: { 200: FraudCheckView },
        },
      },
      async (request) => fraud.recheck(request.body.application_id, contextOf(request)),
    );

    app.get(
      '/api/v1/loan/fraud/rule/list',
      {
        config: { access: ACCESS },
        schema: {
          operationId: 'listLoanFraudRules',
          tags: TAGS,
          summary: 'The fraud rules with their state, weight and parameters',
          response: { 200: FraudRuleList },
        },
      },
      async () => fraud.listRules(),
    );

    app.post(
      '/api/v1/loan/fraud/rule/update',
      {
        config: { access: ACCESS, errors: ['LOAN_FRAUD_RULE_PARAMS'] },
        schema: {
          operationId: 'updateLoanFraudRule',
          tags: TAGS,
          summary: 'Switch a fraud rule on or off, change its weight or parameters',
          description:
            'Parameters are merged into the current ones and checked as a whole (422 naming the field).',
          body: FraudRuleUpdateBody,
          response: { 200: FraudRuleView },
        },
      },
      async (request) => fraud.updateRule(requirePrincipal(request), request.body, contextOf(request)),
    );

    app.get(
      '/api/v1/loan/fraudflag/list',
      {
        config: { access: ACCESS },
        schema: {
          operationId: 'listLoanFraudFlags',
          tags: TAGS,
          summary: 'Fraud flags, newest first',
          querystring: FraudFlagQuery,
          response: { 200: FraudFlagPage },
        },
      },
      async (request) => fraud.cases.list(request.query),
    );

    app.get(
      '/api/v1/loan/fraudflag/:id',
      {
        config: { access: ACCESS },
        schema: {
          operationId: 'getLoanFraudFlag',
          tags: TAGS,
          summary: 'A fraud flag with its case, the rule results that raised it and its notes',
          params: FlagIdParams,
          response: { 200: FraudFlagDetail },
        },
      },
      async (request) => fraud.cases.get(request.params.id),
    );

    app.post(
      '/api/v1/loan/fraudflag/escalate',
      {
        config: {
          access: ACCESS,
          errors: ['NOT_FOUND', 'LOAN_FRAUD_FLAG_DECIDED', 'LOAN_FRAUD_ASSIGNEE_UNKNOWN'],
        },
        schema: {
          operationId: 'escalateLoanFraudFlag',
          tags: TAGS,
          summary: 'Open an investigation case on a fraud flag (or reassign it)',
          body: EscalateBody,
          response: { 200: FraudFlagDetail },
        },
      },
      async (request) => fraud.cases.escalate(requirePrincipal(request), request.body, contextOf(request)),
    );

    app.post(
      '/api/v1/loan/fraudflag/note',
      {
        config: { access: ACCESS, errors: ['NOT_FOUND'] },
        schema: {
          operationId: 'addLoanFraudNote',
          tags: TAGS,
          summary: 'Add a note (and evidence) to a fraud flag’s investigation',
          body: NoteBody,
          response: { 201: FraudNoteView },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(await fraud.cases.note(requirePrincipal(request), request.body, contextOf(request))),
    );

    app.post(
      '/api/v1/loan/fraudflag/decide',
      {
        config: {
          access: ACCESS,
          errors: ['NOT_FOUND', 'LOAN_FRAUD_FLAG_DECIDED', 'LOAN_FRAUD_CASE_REQUIRED'],
        },
        schema: {
          operationId: 'decideLoanFraudFlag',
          tags: TAGS,
          summary: 'Decide an investigation: confirm fraud (decline) or clear (on to scoring)',
          description:
            '`confirm` declines the application with reason LOAN_FRAUD_CONFIRMED and, with `add_to_deny_list`, ' +
            'deny-lists the national ID, phone and device its check recorded. `clear` sends a flagged application ' +
            'back to `submitted` and on to scoring. The flag must have a case (`/fraudflag/escalate`).',
          body: DecideBody,
          response: { 200: DecideResult },
        },
      },
      async (request) => fraud.cases.decide(requirePrincipal(request), request.body, contextOf(request)),
    );

    app.get(
      '/api/v1/loan/denylist/list',
      {
        config: { access: ACCESS },
        schema: {
          operationId: 'listLoanDenyList',
          tags: TAGS,
          summary: 'Deny-list entries (national ID blind indexes, phones, devices), newest first',
          querystring: DenyQuery,
          response: { 200: DenyPage },
        },
      },
      async (request) => fraud.denyList.list(request.query),
    );

    app.post(
      '/api/v1/loan/denylist/add',
      {
        config: { access: ACCESS, errors: ['LOAN_DENY_LIST_EXISTS', 'LOAN_DENY_LIST_NO_VALUE'] },
        schema: {
          operationId: 'addLoanDenyListEntry',
          tags: TAGS,
          summary: 'Deny-list a national ID (by customer or blind index), a phone or a device',
          body: DenyAddBody,
          response: { 201: DenyEntryView },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(await fraud.denyList.add(requirePrincipal(request), request.body, contextOf(request))),
    );

    app.post(
      '/api/v1/loan/denylist/remove',
      {
        config: { access: ACCESS, errors: ['NOT_FOUND'] },
        schema: {
          operationId: 'removeLoanDenyListEntry',
          tags: TAGS,
          summary: 'Remove a deny-list entry',
          body: DenyRemoveBody,
          response: { 200: DenyEntryView },
        },
      },
      async (request) => fraud.denyList.remove(request.body.id, contextOf(request)),
    );
  };
}
