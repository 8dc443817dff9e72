/** HTTP routes of `/api/v1/core`. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf } from '../../platform/http.ts';
import {
  AuditPage,
  AuditQuery,
  AuditVerification,
  CategoryCreate,
  CategoryPage,
  CategoryQuery,
  CategoryUpdate,
  CategoryView,
  IdParams,
} from './core.schemas.ts';
import type { CoreService } from './core.service.ts';

export function coreRoutes(core: CoreService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/core/audit',
      {
        config: { access: { permission: 'core:audit_read' } },
        schema: {
          operationId: 'listAuditLog',
          tags: ['core'],
          summary: 'Query the audit log, newest first',
          querystring: AuditQuery,
          response: { 200: AuditPage },
        },
      },
      async (request) => core.queryAudit(request.query),
    );

    app.get(
      '/api/v1/core/audit/verify',
      {
        config: { access: { permission: 'core:audit_read' } },
        schema: {
          operationId: 'verifyAuditLog',
          tags: ['core'],
          summary: 'Check the audit hash chain; names the first tampered row',
          response: { 200: AuditVerification },
        },
      },
      async () => core.verifyAudit(),
    );

    app.get(
      '/api/v1/core/category',
      {
        config: { access: { permission: 'core:category_read' } },
        schema: {
          operationId: 'listCategories',
          tags: ['core'],
          summary: 'Entity categories',
          querystring: CategoryQuery,
          response: { 200: CategoryPage },
        },
      },
      async (request) => core.listCategories(request.query),
    );

    app.get(
      '/api/v1/core/category/:id',
      {
        config: { access: { permission: 'core:category_read' } },
        schema: {
          operationId: 'getCategory',
          tags: ['core'],
          summary: 'One entity category',
          params: IdParams,
          response: { 200: CategoryView },
        },
      },
      async (request) => core.getCategory(request.params.id),
    );

    app.post(
      '/api/v1/core/category/add',
      {
        config: { access: { permission: 'core:category_manage' }, idempotency: 'optional' },
        schema: {
          operationId: 'createCategory',
          tags: ['core'],
          summary: 'Add an entity category',
          body: CategoryCreate,
          response: { 201: CategoryView },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(await core.createCategory(request.body, contextOf(request), request.idempotency)),
    );

    app.patch(
      '/api/v1/core/category/:id',
      {
        config: { access: { permission: 'core:category_manage' } },
        schema: {
          operationId: 'updateCategory',
          tags: ['core'],
          summary: 'Change an entity category',
          params: IdParams,
          body: CategoryUpdate,
          response: { 200: CategoryView },
        },
      },
      async (request) => core.updateCategory(request.params.id, request.body, contextOf(request)),
    );

    app.delete(
      '/api/v1/core/category/:id',
      {
        config: { access: { permission: 'core:category_manage' } },
        schema: {
          operationId: 'retireCategory',
          tags: ['core'],
          summary: 'Retire an entity category (kept for the records that use it, marked inactive)',
          params: IdParams,
          response: { 200: CategoryView },
        },
      },
      async (request) => core.retireCategory(request.params.id, contextOf(request)),
    );
  };
}
