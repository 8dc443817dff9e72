/** The pending-approvals queue: list, read, approve, reject, cancel. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf, requirePrincipal } from '../../platform/http.ts';
import type { SettingsService } from '../settings/index.ts';
import {
  ActionCatalogue,
  ApprovalPage,
  ApprovalQuery,
  ApprovalView,
  IdParams,
  Rejection,
  RequestRef,
} from './approvals.schemas.ts';
import type { ApprovalService } from './approvals.service.ts';

export function approvalRoutes(
  approvals: ApprovalService,
  settings: SettingsService,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/policy/approval',
      {
        config: { access: { permission: 'approval:read' } },
        schema: {
          operationId: 'listApprovals',
          tags: ['policy'],
          summary: 'Maker-checker requests, newest first',
          querystring: ApprovalQuery,
          response: { 200: ApprovalPage },
        },
      },
      async (request) => approvals.list(request.query),
    );
    app.get(
      '/api/v1/policy/approval/action',
      {
        config: { access: { permission: 'approval:read' } },
        schema: {
          operationId: 'listApprovalActions',
          tags: ['policy'],
          summary: 'Actions that can be put under maker-checker, and whether they are',
          response: { 200: ActionCatalogue },
        },
      },
      async () => {
        const required = await settings.get('approvals.required_actions');
        return {
          items: approvals.actions.map(({ always, ...action }) => ({
            ...action,
            requires_approval: always || required.includes(action.name),
          })),
        };
      },
    );
    app.get(
      '/api/v1/policy/approval/:id',
      {
        config: { access: { permission: 'approval:read' } },
        schema: {
          operationId: 'getApproval',
          tags: ['policy'],
          summary: 'One request',
          params: IdParams,
          response: { 200: ApprovalView },
        },
      },
      async (request) => approvals.get(request.params.id),
    );
    app.post(
      '/api/v1/policy/approval/approve',
      {
        config: { access: { permission: 'approval:decide' } },
        schema: {
          operationId: 'approveRequest',
          tags: ['policy'],
          summary: 'Approve another staff member’s request; it executes once, now',
          body: RequestRef,
          response: { 200: ApprovalView },
        },
      },
      async (request) =>
        approvals.approve(request.body.request_id, requirePrincipal(request), contextOf(request)),
    );
    app.post(
      '/api/v1/policy/approval/reject',
      {
        config: { access: { permission: 'approval:decide' } },
        schema: {
          operationId: 'rejectRequest',
          tags: ['policy'],
          summary: 'Reject another staff member’s request, with a reason',
          body: Rejection,
          response: { 200: ApprovalView },
        },
      },
      async (request) =>
        approvals.reject(
          request.body.request_id,
          request.body.reason,
          requirePrincipal(request),
          contextOf(request),
        ),
    );
    app.post(
      '/api/v1/policy/approval/cancel',
      {
        config: { access: { authenticated: true } },
        schema: {
          operationId: 'cancelRequest',
          tags: ['policy'],
          summary: 'Withdraw your own pending request',
          body: RequestRef,
          response: { 200: ApprovalView },
        },
      },
      async (request) =>
        approvals.cancel(request.body.request_id, requirePrincipal(request), contextOf(request)),
    );
  };
}
