/**
 * HTTP routes of commissions and performance: plans (staff), payouts and their statements, an agent's commission
 * totals and performance (staff with agent:read, or an admin of that agent: another agent's answers 404).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { commonErrors } from '../../platform/errors.ts';
import { contextOf, type Principal, requirePrincipal } from '../../platform/http.ts';
import {
  AgentCommissionTotals,
  IdParams,
  PayoutBody,
  PayoutRun,
  Performance,
  PerformanceQuery,
  PlanBody,
  PlanChangeBody,
  PlanList,
  PlanQuery,
  PlanView,
  Statement,
  StatementQuery,
} from './agents.commission.schemas.ts';
import type { CommissionService } from './agents.commissions.ts';
import { agentsErrors } from './agents.errors.ts';
import type { PerformanceService } from './agents.performance.ts';
import type { OperatorScopes } from './agents.ports.ts';

const TAGS = ['agents'];
/** Errors of the reader check: a customer or staff without agent:read (403), an operator's scope. */
const SCOPE_ERRORS = ['FORBIDDEN', 'AGENT_OPERATOR_NOT_FOUND', 'AGENT_SCOPE_REQUIRED'] as const;

/**
 * Staff need `agent:read`; an operator must be an admin (agent_op:read) of the agent asked about, or of its
 * super-agent. Returns the operator's own agent id (null for staff); another agent's is a 404.
 */
async function readerOf(
  scopes: OperatorScopes,
  principal: Principal,
  agentId: string | null,
  parentOf: (agentId: string) => Promise<string | null>,
): Promise<string | null> {
  if (principal.type === 'user') {
    if (!principal.permissions.has('agent:read')) throw commonErrors.forbidden();
    return null;
  }
  if (principal.type !== 'agent_operator') throw commonErrors.forbidden();
  const scope = await scopes.scopeOf(principal);
  if (scope.role !== 'agent_admin' || !principal.permissions.has('agent_op:read'))
    throw commonErrors.forbidden();
  if (agentId !== null && agentId !== scope.agentId && (await parentOf(agentId)) !== scope.agentId)
    throw agentsErrors.AGENT_COMMISSION_AGENT_NOT_FOUND();
  return scope.agentId;
}

export function commissionRoutes(
  commissions: CommissionService,
  performance: PerformanceService,
  scopes: OperatorScopes,
  parentOf: (agentId: string) => Promise<string | null>,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/agent/commission/plan',
      {
        config: {
          access: { permission: 'agent:commission' },
          errors: ['AGENT_COMMISSION_PLAN_EXISTS', 'UNSUPPORTED_CURRENCY'],
        },
        schema: {
          operationId: 'createAgentCommissionPlan',
          tags: TAGS,
          summary: 'Create a commission plan',
          description:
            'Bands by transaction type (cash_in, cash_out): ascending, contiguous (each starts one minor unit after ' +
            'the previous ends; bounds inclusive), only the last open-ended; commission = fixed + amount × bps / ' +
            '10000 rounded down. A broken band rule is a 422 VALIDATION_ERROR naming its field. `is_default` ' +
            "makes it its currency's default (the previous default stops being one).",
          body: PlanBody,
          response: { 201: PlanView },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await commissions.createPlan(request.body, contextOf(request))),
    );

    app.get(
      '/api/v1/agent/commission/plan',
      {
        config: { access: { permission: 'agent:read' } },
        schema: {
          operationId: 'listAgentCommissionPlans',
          tags: TAGS,
          summary: 'Commission plans, by code',
          querystring: PlanQuery,
          response: { 200: PlanList },
        },
      },
      async (request) => commissions.plans(request.query),
    );

    app.get(
      '/api/v1/agent/commission/plan/:id',
      {
        config: { access: { permission: 'agent:read' }, errors: ['AGENT_COMMISSION_PLAN_NOT_FOUND'] },
        schema: {
          operationId: 'getAgentCommissionPlan',
          tags: TAGS,
          summary: 'One commission plan',
          params: IdParams,
          response: { 200: PlanView },
        },
      },
      async (request) => commissions.plan(request.params.id),
    );

    app.patch(
      '/api/v1/agent/commission/plan/:id',
      {
        config: {
          access: { permission: 'agent:commission' },
          errors: ['AGENT_COMMISSION_PLAN_NOT_FOUND', 'AGENT_COMMISSION_PLAN_IN_USE'],
        },
        schema: {
          operationId: 'updateAgentCommissionPlan',
          tags: TAGS,
          summary: 'Change a commission plan (rules apply to transactions from now on)',
          description:
            'Given fields replace the current ones (`rules` per type given). A plan agents are on, or the default, ' +
            'cannot be deactivated; the default stops being one only when another plan becomes the default.',
          params: IdParams,
          body: PlanChangeBody,
          response: { 200: PlanView },
        },
      },
      async (request) => commissions.updatePlan(request.params.id, request.body, contextOf(request)),
    );

    app.post(
      '/api/v1/agent/commission/payout',
      {
        config: {
          access: { permission: 'agent:commission' },
          idempotency: 'required',
          errors: [
            'AGENT_COMMISSION_PERIOD_INVALID',
            'AGENT_COMMISSION_AGENT_NOT_FOUND',
            'AGENT_COMMISSION_PAYOUT_CHANGED',
            // A payout to the owner's wallet: the wallet's state and balance cap.
            'WALLET_NOT_ACTIVE',
            'WALLET_CLOSED',
            'BALANCE_CAP_EXCEEDED',
            'COUNTERPARTY_INSUFFICIENT_FUNDS',
            // A payout to the owner's wallet is screened like any payment (AML): it may be blocked.
            'TRANSACTION_BLOCKED',
          ],
        },
        schema: {
          operationId: 'runAgentCommissionPayout',
          tags: TAGS,
          summary: 'Pay out accrued commissions (what the daily job does), for every agent or one',
          description:
            'For each agent with commissions accrued before `period_end` (default now): one `commission_payout` ' +
            "movement from its commission payable to its float (or the owner's wallet, per its plan), the accruals " +
            'marked paid. A payout pays at most what the payable holds (a clawback of paid commission is netted). ' +
            'Running it again pays nothing twice. Requires an Idempotency-Key.',
          body: PayoutBody,
          response: { 200: PayoutRun },
        },
      },
      async (request) => commissions.payout(request.body, contextOf(request), request.idempotency),
    );

    app.get(
      '/api/v1/agent/commission/payout/:id',
      {
        config: {
          access: { authenticated: true },
          errors: ['AGENT_COMMISSION_PAYOUT_NOT_FOUND', ...SCOPE_ERRORS],
        },
        schema: {
          operationId: 'getAgentCommissionPayout',
          tags: TAGS,
          summary:
            'A payout statement: the payout and the commissions it paid (staff agent:read, or agent admin)',
          params: IdParams,
          querystring: StatementQuery,
          response: { 200: Statement },
        },
      },
      async (request) => {
        const own = await readerOf(scopes, requirePrincipal(request), null, parentOf);
        return commissions.statement(request.params.id, request.query, own ?? undefined);
      },
    );

    app.get(
      '/api/v1/agent/agent/:id/commission',
      {
        config: {
          access: { authenticated: true },
          errors: ['AGENT_COMMISSION_AGENT_NOT_FOUND', ...SCOPE_ERRORS],
        },
        schema: {
          operationId: 'getAgentCommissionTotals',
          tags: TAGS,
          summary:
            "An agent's commissions: accrued, paid and clawed back (staff agent:read, or its agent admin)",
          params: IdParams,
          response: { 200: AgentCommissionTotals },
        },
      },
      async (request) => {
        await readerOf(scopes, requirePrincipal(request), request.params.id, parentOf);
        return commissions.totals(request.params.id);
      },
    );

    app.get(
      '/api/v1/agent/agent/:id/performance',
      {
        config: {
          access: { authenticated: true },
          errors: ['AGENT_COMMISSION_AGENT_NOT_FOUND', 'AGENT_COMMISSION_PERIOD_INVALID', ...SCOPE_ERRORS],
        },
        schema: {
          operationId: 'getAgentPerformance',
          tags: TAGS,
          summary:
            "An agent's performance over [from, to): volumes and values by type and day, commissions, customers",
          description:
            'Staff with agent:read, or an admin of the agent (or of its super-agent). Periods up to 366 days; days ' +
            'are UTC. `sources` says where volumes and the violation rate came from.',
          params: IdParams,
          querystring: PerformanceQuery,
          response: { 200: Performance },
        },
      },
      async (request) => {
        await readerOf(scopes, requirePrincipal(request), request.params.id, parentOf);
        return performance.performance(request.params.id, request.query);
      },
    );
  };
}
