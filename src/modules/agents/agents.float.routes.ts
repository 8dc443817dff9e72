/**
 * HTTP routes of the agent network's float: bank-deposit top-ups (asked by an agent admin or staff, confirmed by
 * another staff member), rebalancing, and positions for operators and staff.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { contextOf, requirePrincipal } from '../../platform/http.ts';
import { TransactionViewSchema } from '../transactions/index.ts';
import {
  FloatDepositBody,
  FloatDepositList,
  FloatDepositQuery,
  FloatDepositView,
  FloatPositions,
  RebalanceBody,
  RejectBody,
} from './agents.float.schemas.ts';
import type { AgentFloat } from './agents.float.ts';

const TAGS = ['agents'];
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

/** Routes agent admins and staff share: the access guard lets any signed-in principal in, the service decides. */
const ADMIN_OR_STAFF =
  'Agent admins (`agent_op:admin`) for their own agent’s floats (a super-agent’s for its agents’), or staff with ' +
  '`agent:float` for any; others 403 AGENT_FLOAT_NOT_PERMITTED, and a float outside an admin’s agent 404.';

export function floatRoutes(float: AgentFloat): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/agent/float/deposit',
      {
        config: {
          access: { authenticated: true },
          errors: [
            'AGENT_FLOAT_NOT_PERMITTED',
            'AGENT_SCOPE_REQUIRED',
            'AGENT_OPERATOR_NOT_FOUND',
            'AGENT_NOT_FOUND',
            'AGENT_STORE_NOT_FOUND',
            'AGENT_BANK_REFERENCE_USED',
            'UNSUPPORTED_CURRENCY',
          ],
        },
        schema: {
          operationId: 'requestAgentFloatDeposit',
          tags: TAGS,
          summary: 'Asks for a float top-up from a bank deposit (pending until staff confirm it)',
          description: ADMIN_OR_STAFF,
          body: FloatDepositBody,
          response: { 201: FloatDepositView },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await float.requestDeposit(requirePrincipal(request), request.body)),
    );

    app.get(
      '/api/v1/agent/float/deposit',
      {
        config: { access: { permission: 'agent:float' }, errors: [] },
        schema: {
          operationId: 'listAgentFloatDeposits',
          tags: TAGS,
          summary: 'Float deposits (staff), oldest first',
          querystring: FloatDepositQuery,
          response: { 200: FloatDepositList },
        },
      },
      async (request) => float.listDeposits(request.query),
    );

    app.get(
      '/api/v1/agent/float/deposit/:id',
      {
        config: {
          access: { authenticated: true },
          errors: [
            'AGENT_FLOAT_NOT_PERMITTED',
            'AGENT_SCOPE_REQUIRED',
            'AGENT_OPERATOR_NOT_FOUND',
            'AGENT_FLOAT_DEPOSIT_NOT_FOUND',
          ],
        },
        schema: {
          operationId: 'getAgentFloatDeposit',
          tags: TAGS,
          summary: 'One float deposit',
          description: ADMIN_OR_STAFF,
          params: IdParams,
          response: { 200: FloatDepositView },
        },
      },
      async (request) => float.getDeposit(requirePrincipal(request), request.params.id),
    );

    app.post(
      '/api/v1/agent/float/deposit/:id/confirm',
      {
        config: {
          access: { permission: 'agent:float' },
          errors: [
            'AGENT_NOT_FOUND',
            'AGENT_STORE_NOT_FOUND',
            'AGENT_FLOAT_DEPOSIT_NOT_FOUND',
            'AGENT_FLOAT_DEPOSIT_DECIDED',
            'AGENT_FLOAT_SELF_APPROVAL',
            'AGENT_FLOAT_LIMIT_EXCEEDED',
          ],
        },
        schema: {
          operationId: 'confirmAgentFloatDeposit',
          tags: TAGS,
          summary:
            'Confirms a float deposit: the float is credited from the bank-cash account (`float_topup`)',
          description: 'The staff member who asked for the deposit cannot confirm it.',
          params: IdParams,
          response: {
            200: Type.Object({ deposit: FloatDepositView, transaction: TransactionViewSchema }),
          },
        },
      },
      async (request) =>
        float.confirmDeposit(requirePrincipal(request), request.params.id, contextOf(request)),
    );

    app.post(
      '/api/v1/agent/float/deposit/:id/reject',
      {
        config: {
          access: { permission: 'agent:float' },
          errors: ['AGENT_FLOAT_DEPOSIT_NOT_FOUND', 'AGENT_FLOAT_DEPOSIT_DECIDED'],
        },
        schema: {
          operationId: 'rejectAgentFloatDeposit',
          tags: TAGS,
          summary: 'Rejects a float deposit with a reason',
          params: IdParams,
          body: RejectBody,
          response: { 200: FloatDepositView },
        },
      },
      async (request) =>
        float.rejectDeposit(requirePrincipal(request), request.params.id, request.body.reason),
    );

    app.post(
      '/api/v1/agent/float/rebalance',
      {
        config: {
          access: { authenticated: true },
          idempotency: 'required',
          errors: [
            'AGENT_FLOAT_NOT_PERMITTED',
            'AGENT_SCOPE_REQUIRED',
            'AGENT_OPERATOR_NOT_FOUND',
            'AGENT_NOT_FOUND',
            'AGENT_STORE_NOT_FOUND',
            'AGENT_NOT_ACTIVE',
            'AGENT_REBALANCE_NOT_ALLOWED',
            'AGENT_FLOAT_LIMIT_EXCEEDED',
            'AGENT_FLOAT_INSUFFICIENT',
          ],
        },
        schema: {
          operationId: 'rebalanceAgentFloat',
          tags: TAGS,
          summary: 'Moves float: agent ↔ its stores, store ↔ store of one agent, super-agent ↔ its agents',
          description: `${ADMIN_OR_STAFF} Requires an Idempotency-Key.`,
          body: RebalanceBody,
          response: { 201: TransactionViewSchema },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(
            await float.rebalance(
              requirePrincipal(request),
              request.body,
              request.idempotency,
              contextOf(request),
            ),
          ),
    );

    app.get(
      '/api/v1/agent/float',
      {
        config: {
          access: { permission: 'agent_op:read' },
          errors: [
            'AGENT_SCOPE_REQUIRED',
            'AGENT_OPERATOR_NOT_FOUND',
            'AGENT_NOT_FOUND',
            'AGENT_STORE_NOT_FOUND',
          ],
        },
        schema: {
          operationId: 'getOwnAgentFloat',
          tags: TAGS,
          summary: 'The operator’s floats: their store’s and the agent’s (an admin: every store)',
          response: { 200: FloatPositions },
        },
      },
      async (request) => float.operatorPositions(requirePrincipal(request)),
    );

    app.get(
      '/api/v1/agent/agent/:id/float',
      {
        config: { access: { permission: 'agent:read' }, errors: ['AGENT_NOT_FOUND'] },
        schema: {
          operationId: 'getAgentFloatPositions',
          tags: TAGS,
          summary: 'An agent’s float and its stores’ (staff)',
          params: IdParams,
          response: { 200: FloatPositions },
        },
      },
      async (request) => float.agentPositions(request.params.id),
    );
  };
}
