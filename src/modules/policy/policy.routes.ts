/** HTTP routes of `/api/v1/policy`: access policies and transaction-control limits, with evaluation. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf } from '../../platform/http.ts';
import {
  AccessAnswer,
  AccessPolicyCreate,
  AccessPolicyList,
  AccessPolicyUpdate,
  AccessPolicyView,
  AccessQuestion,
  IdParams,
  LimitCreate,
  LimitList,
  LimitQuery,
  LimitUpdate,
  LimitView,
  TransactionAnswer,
  TransactionQuestion,
} from './policy.schemas.ts';
import type { PolicyService } from './policy.service.ts';

const read = { access: { permission: 'policy:read' } } as const;
const manage = { access: { permission: 'policy:manage' } } as const;

export function policyRoutes(policy: PolicyService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/policy/access',
      {
        config: read,
        schema: {
          operationId: 'listAccessPolicies',
          tags: ['policy'],
          summary: 'Access policies',
          response: { 200: AccessPolicyList },
        },
      },
      async () => policy.listAccess(),
    );
    app.post(
      '/api/v1/policy/access/add',
      {
        config: manage,
        schema: {
          operationId: 'createAccessPolicy',
          tags: ['policy'],
          summary: 'Add an access policy (channels, IP allowlist, hours) for a role or all staff',
          body: AccessPolicyCreate,
          response: { 201: AccessPolicyView },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await policy.createAccess(request.body, contextOf(request))),
    );
    app.post(
      '/api/v1/policy/access/evaluate',
      {
        config: read,
        schema: {
          operationId: 'evaluateAccessPolicy',
          tags: ['policy'],
          summary: 'Would these roles be let in from this address, channel and time?',
          body: AccessQuestion,
          response: { 200: AccessAnswer },
        },
      },
      async (request) =>
        policy.evaluateAccess({
          ...request.body,
          at: request.body.at ? new Date(request.body.at) : undefined,
        }),
    );
    app.get(
      '/api/v1/policy/access/:id',
      {
        config: read,
        schema: {
          operationId: 'getAccessPolicy',
          tags: ['policy'],
          summary: 'One access policy',
          params: IdParams,
          response: { 200: AccessPolicyView },
        },
      },
      async (request) => policy.getAccess(request.params.id),
    );
    app.patch(
      '/api/v1/policy/access/:id',
      {
        config: manage,
        schema: {
          operationId: 'updateAccessPolicy',
          tags: ['policy'],
          summary: 'Change an access policy',
          params: IdParams,
          body: AccessPolicyUpdate,
          response: { 200: AccessPolicyView },
        },
      },
      async (request) => policy.updateAccess(request.params.id, request.body, contextOf(request)),
    );
    app.delete(
      '/api/v1/policy/access/:id',
      {
        config: manage,
        schema: {
          operationId: 'deleteAccessPolicy',
          tags: ['policy'],
          summary: 'Delete an access policy',
          params: IdParams,
          response: { 204: { type: 'null' } },
        },
      },
      async (request, reply) => {
        await policy.deleteAccess(request.params.id, contextOf(request));
        return reply.code(204).send(null);
      },
    );

    app.get(
      '/api/v1/policy/transaction',
      {
        config: read,
        schema: {
          operationId: 'listTransactionLimits',
          tags: ['policy'],
          summary: 'Transaction-control limits',
          querystring: LimitQuery,
          response: { 200: LimitList },
        },
      },
      async (request) => policy.listLimits(request.query),
    );
    app.post(
      '/api/v1/policy/transaction/add',
      {
        config: manage,
        schema: {
          operationId: 'createTransactionLimit',
          tags: ['policy'],
          summary: 'Add a limit per KYC tier × channel × transaction type × period',
          body: LimitCreate,
          response: { 201: LimitView },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(
            await policy.createLimit(
              { ...request.body, max_amount_minor: BigInt(request.body.max_amount_minor) },
              contextOf(request),
            ),
          ),
    );
    app.post(
      '/api/v1/policy/transaction/evaluate',
      {
        config: read,
        schema: {
          operationId: 'evaluateTransactionLimits',
          tags: ['policy'],
          summary: 'Which limits would this transaction break?',
          body: TransactionQuestion,
          response: { 200: TransactionAnswer },
        },
      },
      async (request) => {
        const { used, amount } = request.body;
        return policy.evaluateTransaction({
          ...request.body,
          amount: BigInt(amount),
          used: {
            daily_amount: BigInt(used.daily_amount),
            daily_count: used.daily_count,
            monthly_amount: BigInt(used.monthly_amount),
            monthly_count: used.monthly_count,
          },
        });
      },
    );
    app.get(
      '/api/v1/policy/transaction/:id',
      {
        config: read,
        schema: {
          operationId: 'getTransactionLimit',
          tags: ['policy'],
          summary: 'One limit',
          params: IdParams,
          response: { 200: LimitView },
        },
      },
      async (request) => policy.getLimit(request.params.id),
    );
    app.patch(
      '/api/v1/policy/transaction/:id',
      {
        config: manage,
        schema: {
          operationId: 'updateTransactionLimit',
          tags: ['policy'],
          summary: 'Change a limit',
          params: IdParams,
          body: LimitUpdate,
          response: { 200: LimitView },
        },
      },
      async (request) => {
        const { max_amount_minor, ...rest } = request.body;
        return policy.updateLimit(
          request.params.id,
          {
            ...rest,
            ...(max_amount_minor !== undefined ? { max_amount_minor: BigInt(max_amount_minor) } : {}),
          },
          contextOf(request),
        );
      },
    );
    app.delete(
      '/api/v1/policy/transaction/:id',
      {
        config: manage,
        schema: {
          operationId: 'deleteTransactionLimit',
          tags: ['policy'],
          summary: 'Delete a limit',
          params: IdParams,
          response: { 204: { type: 'null' } },
        },
      },
      async (request, reply) => {
        await policy.deleteLimit(request.params.id, contextOf(request));
        return reply.code(204).send(null);
      },
    );
  };
}
