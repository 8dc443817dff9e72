/**
 * Network routes: staff (back office) manage agents, stores and operators; agent admins (`agent_op:admin`) manage
 * their own agent's tellers. An operator never reaches another agent's (or, a teller, another store's) data: 404.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { contextOf, requirePrincipal } from '../../platform/http.ts';
import { ApprovalViewSchema } from '../approvals/index.ts';
import type { AgentAuth } from './agents.auth.ts';
import {
  AgentAddBody,
  AgentListQuery,
  AgentPage,
  AgentUpdateBody,
  AgentView,
  CloseBody,
  DeviceBindBody,
  DeviceParams,
  GeofenceSchema,
  IdParams,
  OperatorAddBody,
  OperatorListQuery,
  OperatorPage,
  OperatorView,
  PinBody,
  ReasonBody,
  StoreAddBody,
  StoreListQuery,
  StorePage,
  StoreUpdateBody,
  StoreView,
  TellerAddBody,
} from './agents.network.schemas.ts';
import { type AgentNetwork, networkErrors } from './agents.network.ts';

const TAGS = ['agents'];

export function agentNetworkRoutes(network: AgentNetwork, scopes: AgentAuth): FastifyPluginAsyncTypebox {
  return async (app) => {
    // --- Agents (staff) -----------------------------------------------------------------------------------------
    app.post(
      '/api/v1/agent/agent/add',
      {
        config: {
          access: { permission: 'agent:manage' },
          errors: [
            'AGENT_OWNER_NOT_ELIGIBLE',
            'AGENT_PARENT_INVALID',
            'AGENT_REGISTRATION_EXISTS',
            'AGENT_CURRENCY_UNSUPPORTED',
          ],
        },
        schema: {
          operationId: 'addAgent',
          tags: TAGS,
          summary:
            'Onboard a super-agent or agent (pending until a second staff member approves its activation)',
          description:
            'Opens the agent’s float account and commission payable account on the ledger. The owner must be an ' +
            'active customer; an agent may name a parent super-agent of the same currency.',
          body: AgentAddBody,
          response: { 201: AgentView },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await network.createAgent(request.body, contextOf(request))),
    );

    app.get(
      '/api/v1/agent/agent/list',
      {
        config: { access: { permission: 'agent:read' } },
        schema: {
          operationId: 'listAgents',
          tags: TAGS,
          summary: 'Agents, newest first (filters: kind, status, parent)',
          querystring: AgentListQuery,
          response: { 200: AgentPage },
        },
      },
      async (request) => network.listAgents(request.query),
    );

    app.get(
      '/api/v1/agent/agent/:id',
      {
        config: { access: { permission: 'agent:read' }, errors: ['AGENT_NOT_FOUND'] },
        schema: {
          operationId: 'getAgent',
          tags: TAGS,
          summary: 'One agent',
          params: IdParams,
          response: { 200: AgentView },
        },
      },
      async (request) => network.getAgent(request.params.id),
    );

    app.patch(
      '/api/v1/agent/agent/:id',
      {
        config: {
          access: { permission: 'agent:manage' },
          errors: ['AGENT_NOT_FOUND', 'AGENT_STATUS_CONFLICT'],
        },
        schema: {
          operationId: 'updateAgent',
          tags: TAGS,
          summary: 'Change an agent’s contact, limits, geofence policy or commission plan',
          params: IdParams,
          body: AgentUpdateBody,
          response: { 200: AgentView },
        },
      },
      async (request) => network.updateAgent(request.params.id, request.body, contextOf(request)),
    );

    app.post(
      '/api/v1/agent/agent/:id/activate',
      {
        config: {
          access: { permission: 'agent:manage' },
          errors: ['AGENT_NOT_FOUND', 'AGENT_STATUS_CONFLICT', 'APPROVAL_ALREADY_PENDING', 'UNKNOWN_ACTION'],
        },
        schema: {
          operationId: 'requestAgentActivation',
          tags: TAGS,
          summary: 'Ask for a pending agent’s activation: a second staff member approves it (maker-checker)',
          description:
            'Files the `agent.activate` approval request (202). A checker with `approval:decide` and `agent:manage`, ' +
            'not the maker, approves it at `/api/v1/policy/approval/approve`; the agent becomes active then.',
          params: IdParams,
          response: { 202: ApprovalViewSchema },
        },
      },
      async (request, reply) => {
        const outcome = await network.requestActivation(request.params.id, contextOf(request));
        // `always: true`: the action never runs without a checker.
        if (outcome.kind !== 'pending') throw new Error('agent.activate ran without a checker');
        return reply.code(202).send(outcome.request);
      },
    );

    for (const action of ['suspend', 'reactivate'] as const) {
      app.post(
        `/api/v1/agent/agent/:id/${action}`,
        {
          config: {
            access: { permission: 'agent:suspend' },
            errors: ['AGENT_NOT_FOUND', 'AGENT_STATUS_CONFLICT'],
          },
          schema: {
            operationId: action === 'suspend' ? 'suspendAgent' : 'reactivateAgent',
            tags: TAGS,
            summary:
              action === 'suspend'
                ? 'Suspend an agent: its operators (and a super-agent’s agents’ operators) are refused at once'
                : 'Reactivate a suspended agent',
            params: IdParams,
            body: ReasonBody,
            response: { 200: AgentView },
          },
        },
        async (request) =>
          network.setAgentStatus(request.params.id, action, request.body.reason, contextOf(request)),
      );
    }

    app.post(
      '/api/v1/agent/agent/:id/close',
      {
        config: {
          access: { permission: 'agent:suspend' },
          errors: [
            'AGENT_NOT_FOUND',
            'AGENT_STATUS_CONFLICT',
            'AGENT_FLOAT_NOT_ZERO',
            'AGENT_SWEEP_NO_WALLET',
            'AGENT_FLOAT_INSUFFICIENT',
            'AGENT_COMMISSION_PAYOUT_CHANGED',
            'BALANCE_CAP_EXCEEDED',
            // The sweep to the owner's wallet is a payment like any other: the AML screen may block it.
            'TRANSACTION_BLOCKED',
          ],
        },
        schema: {
          operationId: 'closeAgent',
          tags: TAGS,
          summary:
            'Close an agent (zero float on it and its stores, zero commission payable, or `sweep: true` moves them ' +
            'to the owner’s wallet first); closes its stores and operators',
          params: IdParams,
          body: CloseBody,
          response: { 200: AgentView },
        },
      },
      async (request) =>
        network.closeAgent(
          request.params.id,
          request.body.reason,
          contextOf(request),
          request.body.sweep ?? false,
        ),
    );

    // --- Stores (staff) -----------------------------------------------------------------------------------------
    app.post(
      '/api/v1/agent/agent/:id/store',
      {
        config: {
          access: { permission: 'agent:manage' },
          errors: ['AGENT_NOT_FOUND', 'AGENT_STATUS_CONFLICT', 'AGENT_GEOFENCE_INVALID'],
        },
        schema: {
          operationId: 'addAgentStore',
          tags: TAGS,
          summary: 'Open a store of an agent, with its geofence and its own float account',
          params: IdParams,
          body: StoreAddBody,
          response: { 201: StoreView },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await network.createStore(request.params.id, request.body, contextOf(request))),
    );

    app.get(
      '/api/v1/agent/agent/:id/store/list',
      {
        config: { access: { permission: 'agent:read' }, errors: ['AGENT_NOT_FOUND'] },
        schema: {
          operationId: 'listAgentStores',
          tags: TAGS,
          summary: 'An agent’s stores, newest first',
          params: IdParams,
          querystring: StoreListQuery,
          response: { 200: StorePage },
        },
      },
      async (request) => network.listStores(request.params.id, request.query),
    );

    app.get(
      '/api/v1/agent/agent/:id/operator/list',
      {
        config: { access: { permission: 'agent:read' }, errors: ['AGENT_NOT_FOUND'] },
        schema: {
          operationId: 'listAgentOperators',
          tags: TAGS,
          summary: 'An agent’s operators, newest first',
          params: IdParams,
          querystring: OperatorListQuery,
          response: { 200: OperatorPage },
        },
      },
      async (request) => network.listOperators(request.params.id, request.query),
    );

    app.get(
      '/api/v1/agent/store/:id',
      {
        config: { access: { permission: 'agent:read' }, errors: ['AGENT_STORE_NOT_FOUND'] },
        schema: {
          operationId: 'getAgentStore',
          tags: TAGS,
          summary: 'One store',
          params: IdParams,
          response: { 200: StoreView },
        },
      },
      async (request) => network.getStore(request.params.id),
    );

    app.patch(
      '/api/v1/agent/store/:id',
      {
        config: {
          access: { permission: 'agent:manage' },
          errors: ['AGENT_STORE_NOT_FOUND', 'AGENT_STATUS_CONFLICT', 'AGENT_GEOFENCE_INVALID'],
        },
        schema: {
          operationId: 'updateAgentStore',
          tags: TAGS,
          summary: 'Change a store’s name, address, opening hours or coordinates',
          params: IdParams,
          body: StoreUpdateBody,
          response: { 200: StoreView },
        },
      },
      async (request) => network.updateStore(request.params.id, request.body, contextOf(request)),
    );

    app.put(
      '/api/v1/agent/store/:id/geofence',
      {
        config: {
          access: { permission: 'agent:manage' },
          errors: ['AGENT_STORE_NOT_FOUND', 'AGENT_STATUS_CONFLICT', 'AGENT_GEOFENCE_INVALID'],
        },
        schema: {
          operationId: 'setAgentStoreGeofence',
          tags: TAGS,
          summary: 'Replace a store’s geofence (circle ≤ 50 km or polygon of 3 to 50 vertices)',
          params: IdParams,
          body: GeofenceSchema,
          response: { 200: StoreView },
        },
      },
      async (request) => network.setGeofence(request.params.id, request.body, contextOf(request)),
    );

    for (const action of ['suspend', 'reactivate'] as const) {
      app.post(
        `/api/v1/agent/store/:id/${action}`,
        {
          config: {
            access: { permission: 'agent:suspend' },
            errors: ['AGENT_STORE_NOT_FOUND', 'AGENT_STATUS_CONFLICT'],
          },
          schema: {
            operationId: action === 'suspend' ? 'suspendAgentStore' : 'reactivateAgentStore',
            tags: TAGS,
            summary:
              action === 'suspend' ? 'Suspend a store (its tellers are refused)' : 'Reactivate a store',
            params: IdParams,
            body: ReasonBody,
            response: { 200: StoreView },
          },
        },
        async (request) =>
          network.setStoreStatus(request.params.id, action, request.body.reason, contextOf(request)),
      );
    }

    app.post(
      '/api/v1/agent/store/:id/close',
      {
        config: {
          access: { permission: 'agent:suspend' },
          errors: ['AGENT_STORE_NOT_FOUND', 'AGENT_STATUS_CONFLICT', 'AGENT_FLOAT_NOT_ZERO'],
        },
        schema: {
          operationId: 'closeAgentStore',
          tags: TAGS,
          summary: 'Close a store (zero float); closes its tellers',
          params: IdParams,
          body: ReasonBody,
          response: { 200: StoreView },
        },
      },
      async (request) => network.closeStore(request.params.id, request.body.reason, contextOf(request)),
    );

    // --- Operators (staff) --------------------------------------------------------------------------------------
    app.post(
      '/api/v1/agent/operator/add',
      {
        config: {
          access: { permission: 'agent:manage' },
          errors: [
            'AGENT_NOT_FOUND',
            'AGENT_STORE_NOT_FOUND',
            'AGENT_STATUS_CONFLICT',
            'AGENT_OPERATOR_INVALID',
            'AGENT_OPERATOR_PHONE_EXISTS',
          ],
        },
        schema: {
          operationId: 'addAgentOperator',
          tags: TAGS,
          summary: 'Add an operator: a teller at a store (initial PIN) or an agent admin (initial password)',
          body: OperatorAddBody,
          response: { 201: OperatorView },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await network.createOperator(request.body, contextOf(request))),
    );

    app.get(
      '/api/v1/agent/operator/:id',
      {
        config: { access: { permission: 'agent:read' }, errors: ['AGENT_OPERATOR_NOT_FOUND'] },
        schema: {
          operationId: 'getAgentOperator',
          tags: TAGS,
          summary: 'One operator with their bound devices',
          params: IdParams,
          response: { 200: OperatorView },
        },
      },
      async (request) => network.getOperator(request.params.id),
    );

    for (const action of ['suspend', 'reactivate'] as const) {
      app.post(
        `/api/v1/agent/operator/:id/${action}`,
        {
          config: {
            access: { permission: 'agent:suspend' },
            errors: ['AGENT_OPERATOR_NOT_FOUND', 'AGENT_STATUS_CONFLICT'],
          },
          schema: {
            operationId: action === 'suspend' ? 'suspendAgentOperator' : 'reactivateAgentOperator',
            tags: TAGS,
            summary:
              action === 'suspend' ? 'Suspend an operator (refused at once)' : 'Reactivate an operator',
            params: IdParams,
            body: ReasonBody,
            response: { 200: OperatorView },
          },
        },
        async (request) =>
          network.setOperatorStatus(request.params.id, action, request.body.reason, contextOf(request)),
      );
    }

    app.post(
      '/api/v1/agent/operator/:id/pin',
      {
        config: {
          access: { permission: 'agent:manage' },
          errors: ['AGENT_OPERATOR_NOT_FOUND', 'AGENT_OPERATOR_INVALID', 'AGENT_STATUS_CONFLICT'],
        },
        schema: {
          operationId: 'resetAgentOperatorPin',
          tags: TAGS,
          summary: 'Set a teller’s PIN again (lifts a PIN lock)',
          params: IdParams,
          body: PinBody,
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        await network.resetPin(request.params.id, request.body.pin, contextOf(request));
        return reply.code(204).send(null);
      },
    );

    app.post(
      '/api/v1/agent/operator/:id/device',
      {
        config: {
          access: { permission: 'agent:manage' },
          errors: ['AGENT_OPERATOR_NOT_FOUND', 'AGENT_DEVICE_INVALID', 'AGENT_STATUS_CONFLICT'],
        },
        schema: {
          operationId: 'bindAgentOperatorDevice',
          tags: TAGS,
          summary:
            'Bind a device (its Ed25519 public key) to an operator; binding the same device id again replaces its key',
          params: IdParams,
          body: DeviceBindBody,
          response: { 200: OperatorView },
        },
      },
      async (request) => network.bindDevice(request.params.id, request.body, contextOf(request)),
    );

    app.delete(
      '/api/v1/agent/operator/:id/device/:device_id',
      {
        config: {
          access: { permission: 'agent:manage' },
          errors: ['AGENT_OPERATOR_NOT_FOUND', 'AGENT_DEVICE_NOT_FOUND'],
        },
        schema: {
          operationId: 'revokeAgentOperatorDevice',
          tags: TAGS,
          summary: 'Revoke an operator’s device: it can no longer sign in',
          params: DeviceParams,
          response: { 200: OperatorView },
        },
      },
      async (request) =>
        network.revokeDevice(request.params.id, request.params.device_id, contextOf(request)),
    );

    // --- Agent admins: their own agent only ---------------------------------------------------------------------
    app.get(
      '/api/v1/agent/admin/store/list',
      {
        config: {
          access: { permission: 'agent_op:admin' },
          errors: ['AGENT_SCOPE_REQUIRED', 'AGENT_NOT_FOUND', 'AGENT_OPERATOR_NOT_FOUND'],
        },
        schema: {
          operationId: 'listOwnAgentStores',
          tags: TAGS,
          summary: 'Agent admin: their agent’s stores',
          querystring: StoreListQuery,
          response: { 200: StorePage },
        },
      },
      async (request) => {
        const scope = await scopes.scopeOf(requirePrincipal(request));
        return network.listStores(scope.agentId, request.query, scope.storeId);
      },
    );

    app.get(
      '/api/v1/agent/admin/operator/list',
      {
        config: {
          access: { permission: 'agent_op:admin' },
          errors: ['AGENT_SCOPE_REQUIRED', 'AGENT_NOT_FOUND', 'AGENT_OPERATOR_NOT_FOUND'],
        },
        schema: {
          operationId: 'listOwnAgentOperators',
          tags: TAGS,
          summary: 'Agent admin: their agent’s operators',
          querystring: OperatorListQuery,
          response: { 200: OperatorPage },
        },
      },
      async (request) => {
        const scope = await scopes.scopeOf(requirePrincipal(request));
        return network.listOperators(scope.agentId, request.query);
      },
    );

    app.post(
      '/api/v1/agent/admin/operator/add',
      {
        config: {
          access: { permission: 'agent_op:admin' },
          errors: [
            'AGENT_SCOPE_REQUIRED',
            'AGENT_NOT_FOUND',
            'AGENT_OPERATOR_NOT_FOUND',
            'AGENT_STORE_NOT_FOUND',
            'AGENT_STATUS_CONFLICT',
            'AGENT_OPERATOR_INVALID',
            'AGENT_OPERATOR_PHONE_EXISTS',
          ],
        },
        schema: {
          operationId: 'addOwnAgentTeller',
          tags: TAGS,
          summary: 'Agent admin: add a teller at one of their agent’s stores',
          body: TellerAddBody,
          response: { 201: OperatorView },
        },
      },
      async (request, reply) => {
        const scope = await scopes.scopeOf(requirePrincipal(request));
        await network.storeFor(scope, request.body.store_id);
        const created = await network.createOperator(
          { ...request.body, agent_id: scope.agentId, role: 'teller' },
          contextOf(request),
        );
        return reply.code(201).send(created);
      },
    );

    app.post(
      '/api/v1/agent/admin/operator/:id/suspend',
      {
        config: {
          access: { permission: 'agent_op:admin' },
          errors: ['AGENT_SCOPE_REQUIRED', 'AGENT_OPERATOR_NOT_FOUND', 'AGENT_STATUS_CONFLICT'],
        },
        schema: {
          operationId: 'suspendOwnAgentTeller',
          tags: TAGS,
          summary: 'Agent admin: suspend one of their agent’s tellers',
          params: IdParams,
          body: ReasonBody,
          response: { 200: OperatorView },
        },
      },
      async (request) => {
        const scope = await scopes.scopeOf(requirePrincipal(request));
        const operator = await network.operator(request.params.id).catch(() => null);
        if (!operator || operator.agentId !== scope.agentId || operator.role !== 'teller')
          throw networkErrors.operatorNotFound();
        return network.setOperatorStatus(operator.id, 'suspend', request.body.reason, contextOf(request));
      },
    );
  };
}
