/**
 * HTTP routes of the agent network's cash: the operator's cash-in and cash-out (`/api/v1/agent/transaction/...`),
 * the customer lookup, and the customer's side of a cash-out (withdrawal codes, approving an operator's request).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { commonErrors } from '../../platform/errors.ts';
import { channelOf, contextOf, type Principal, requirePrincipal } from '../../platform/http.ts';
import { TransactionViewSchema } from '../transactions/index.ts';
import {
  ApproveCashOutBody,
  CashInBody,
  CashOutBody,
  CashOutRequestList,
  CashOutRequestView,
  CustomerLookupQuery,
  CustomerLookupView,
  IdParams,
  NewWithdrawalCodeView,
  WithdrawalCodeBody,
  WithdrawalCodeList,
} from './agents.cash.schemas.ts';
import type { AgentCash } from './agents.cash.ts';
import type { WithdrawalCodes } from './agents.withdrawal.ts';

const TAGS = ['agents'];
/** The customer's own routes: staff (who pass the permission) get 404; operators do not hold the permission. */
const CUSTOMER = { permission: 'transaction:create', allowCustomer: true } as const;

function customerOf(principal: Principal): string {
  // As `/api/v1/loan/my`: staff pass the permission but have no codes or cash-outs of their own.
  if (principal.type !== 'customer') throw commonErrors.notFound('Customer');
  return principal.id;
}

/** The payment engine's refusals (as the wallet payment routes list them). */
const ENGINE = [
  'TRANSACTION_BLOCKED',
  'BALANCE_CAP_EXCEEDED',
  'CHANNEL_NOT_ALLOWED',
  'COUNTERPARTY_INSUFFICIENT_FUNDS',
  'CURRENCY_MISMATCH',
  'FEATURE_DISABLED',
  'FEATURE_NOT_ALLOWED',
  'INSUFFICIENT_BALANCE',
  'LIMIT_EXCEEDED',
  'NOT_FOUND',
  'RECIPIENT_LIMIT_EXCEEDED',
  'RECIPIENT_UNAVAILABLE',
  'UNSUPPORTED_CURRENCY',
  'WALLET_NOT_ACTIVE',
] as const;

/** A customer's PIN, and a one-time code above the threshold. */
const PIN = [
  'INVALID_PIN',
  'PIN_LOCKED',
  'PIN_NOT_SET',
  'OTP_COOLDOWN',
  'OTP_INVALID',
  'OTP_LOCKED',
  'OTP_RATE_LIMITED',
  'OTP_REQUIRED',
] as const;

/** What an operator's money action may answer beyond the engine's refusals. */
const OPERATOR_MONEY = [
  ...ENGINE,
  'FORBIDDEN',
  'AGENT_SCOPE_REQUIRED',
  'AGENT_OPERATOR_NOT_FOUND',
  'AGENT_NOT_FOUND',
  'AGENT_STORE_NOT_FOUND',
  'GEOFENCE_VIOLATION',
  'AGENT_NOT_ACTIVE',
  'AGENT_LIMIT_EXCEEDED',
  'AGENT_CUSTOMER_NOT_FOUND',
  'AGENT_FLOAT_INSUFFICIENT',
] as const;

export function cashRoutes(cash: AgentCash, codes: WithdrawalCodes): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/agent/customer-lookup',
      {
        config: {
          access: { permission: 'agent_op:transact' },
          errors: [
            'AGENT_SCOPE_REQUIRED',
            'AGENT_OPERATOR_NOT_FOUND',
            'AGENT_NOT_FOUND',
            'AGENT_CUSTOMER_NOT_FOUND',
          ],
        },
        schema: {
          operationId: 'agentCustomerLookup',
          tags: TAGS,
          summary:
            'The masked name of the customer with this phone, for the operator to confirm (404 if none)',
          querystring: CustomerLookupQuery,
          response: { 200: CustomerLookupView },
        },
      },
      async (request) => cash.lookup(requirePrincipal(request), request.query),
    );

    app.post(
      '/api/v1/agent/transaction/cash-in',
      {
        config: {
          access: { permission: 'agent_op:transact' },
          idempotency: 'required',
          errors: [...OPERATOR_MONEY],
        },
        schema: {
          operationId: 'agentCashIn',
          tags: TAGS,
          summary: 'Cash-in: the store’s float pays the customer’s wallet (operator; Idempotency-Key)',
          description:
            'The device location is checked against the store’s geofence (GEOFENCE_VIOLATION when the agent’s policy ' +
            'refuses). The agent’s single and daily limits, the customer’s tier and wallet limits and the float apply.',
          body: CashInBody,
          response: { 201: TransactionViewSchema },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(
            await cash.cashIn(
              requirePrincipal(request),
              request.body,
              request.idempotency,
              contextOf(request),
            ),
          ),
    );

    app.post(
      '/api/v1/agent/transaction/cash-out',
      {
        config: {
          access: { permission: 'agent_op:transact' },
          idempotency: 'required',
          errors: [...OPERATOR_MONEY, 'AGENT_WITHDRAWAL_CODE_INVALID', 'AGENT_WITHDRAWAL_CODE_USED'],
        },
        schema: {
          operationId: 'agentCashOut',
          tags: TAGS,
          summary:
            'Cash-out: with the customer’s withdrawal code (201), or a request the customer approves (202)',
          description:
            'With `code` the customer’s wallet pays the store’s float at once (the withdrawal fee of the wallet’s ' +
            'product applies). Without it a pending request is made and the customer approves it in the app with ' +
            'their PIN; the operator polls `GET /api/v1/agent/transaction/cash-out/{id}`.',
          body: CashOutBody,
          response: { 201: TransactionViewSchema, 202: CashOutRequestView },
        },
      },
      async (request, reply) => {
        const outcome = await cash.cashOut(
          requirePrincipal(request),
          request.body,
          request.idempotency,
          contextOf(request),
        );
        return reply.code(outcome.status).send(outcome.body as never);
      },
    );

    app.get(
      '/api/v1/agent/transaction/cash-out/:id',
      {
        config: {
          access: { permission: 'agent_op:read' },
          errors: ['AGENT_SCOPE_REQUIRED', 'AGENT_OPERATOR_NOT_FOUND', 'AGENT_CASH_OUT_NOT_FOUND'],
        },
        schema: {
          operationId: 'getAgentCashOutRequest',
          tags: TAGS,
          summary:
            'An operator’s cash-out request: pending, completed (with its transaction), rejected, expired',
          params: IdParams,
          response: { 200: CashOutRequestView },
        },
      },
      async (request) => cash.getRequest(requirePrincipal(request), request.params.id),
    );

    app.get(
      '/api/v1/agent/cash-out/pending',
      {
        config: { access: CUSTOMER, errors: ['NOT_FOUND'] },
        schema: {
          operationId: 'listPendingAgentCashOuts',
          tags: TAGS,
          summary: 'Cash-outs operators asked for, waiting for the customer’s approval (customers only)',
          response: { 200: CashOutRequestList },
        },
      },
      async (request) => cash.pendingCashOuts(customerOf(requirePrincipal(request))),
    );

    app.post(
      '/api/v1/agent/cash-out/:id/approve',
      {
        config: {
          access: CUSTOMER,
          errors: [
            ...ENGINE,
            ...PIN,
            'AGENT_CASH_OUT_NOT_FOUND',
            'AGENT_CASH_OUT_NOT_PENDING',
            'AGENT_NOT_FOUND',
            'AGENT_STORE_NOT_FOUND',
            'AGENT_OPERATOR_NOT_FOUND',
            'AGENT_NOT_ACTIVE',
            'AGENT_LIMIT_EXCEEDED',
          ],
        },
        schema: {
          operationId: 'approveAgentCashOut',
          tags: TAGS,
          summary:
            'The customer approves an operator’s cash-out with their PIN: the wallet pays the store’s float',
          params: IdParams,
          body: ApproveCashOutBody,
          response: { 201: TransactionViewSchema },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(
            await cash.approveCashOut(
              customerOf(requirePrincipal(request)),
              request.params.id,
              request.body,
              contextOf(request),
            ),
          ),
    );

    app.post(
      '/api/v1/agent/cash-out/:id/reject',
      {
        config: {
          access: CUSTOMER,
          errors: ['NOT_FOUND', 'AGENT_CASH_OUT_NOT_FOUND', 'AGENT_CASH_OUT_NOT_PENDING'],
        },
        schema: {
          operationId: 'rejectAgentCashOut',
          tags: TAGS,
          summary: 'The customer refuses an operator’s cash-out',
          params: IdParams,
          response: { 200: CashOutRequestView },
        },
      },
      async (request) => cash.rejectCashOut(customerOf(requirePrincipal(request)), request.params.id),
    );

    app.post(
      '/api/v1/agent/withdrawal-code',
      {
        config: {
          access: CUSTOMER,
          errors: [...PIN, 'NOT_FOUND', 'AGENT_NUMBER_UNKNOWN', 'UNSUPPORTED_CURRENCY'],
        },
        schema: {
          operationId: 'createAgentWithdrawalCode',
          tags: TAGS,
          summary:
            'A one-time withdrawal code for a cash-out at an agent (customer, PIN): shown once, expiring',
          body: WithdrawalCodeBody,
          response: { 201: NewWithdrawalCodeView },
        },
      },
      async (request, reply) => {
        const principal = requirePrincipal(request);
        return reply
          .code(201)
          .send(await codes.create(customerOf(principal), request.body, channelOf(request, 'mobile')));
      },
    );

    app.get(
      '/api/v1/agent/withdrawal-code',
      {
        config: { access: CUSTOMER, errors: ['NOT_FOUND'] },
        schema: {
          operationId: 'listAgentWithdrawalCodes',
          tags: TAGS,
          summary: 'The customer’s withdrawal codes, newest first (never the codes themselves)',
          response: { 200: WithdrawalCodeList },
        },
      },
      async (request) => codes.list(customerOf(requirePrincipal(request))),
    );

    app.delete(
      '/api/v1/agent/withdrawal-code/:id',
      {
        config: { access: CUSTOMER, errors: ['NOT_FOUND', 'AGENT_WITHDRAWAL_CODE_NOT_FOUND'] },
        schema: {
          operationId: 'cancelAgentWithdrawalCode',
          tags: TAGS,
          summary: 'Cancels one of the customer’s pending withdrawal codes',
          params: IdParams,
          response: { 204: { type: 'null' } },
        },
      },
      async (request, reply) => {
        await codes.cancel(customerOf(requirePrincipal(request)), request.params.id);
        return reply.code(204).send(null);
      },
    );
  };
}
