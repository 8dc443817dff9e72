/** HTTP routes of `/api/v1/notify`: staff sends, messages and templates; everyone's inbox and preferences. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf, requirePrincipal, staffOrCustomer } from '../../platform/http.ts';
import {
  IdParams,
  InboxItem,
  InboxPage,
  InboxQuery,
  MarkedView,
  NotificationPage,
  NotificationQuery,
  NotificationView,
  PreferencesBody,
  PreferencesView,
  SendBody,
  SendResponse,
  TemplateBody,
  TemplatePage,
  TemplateQuery,
  TemplateUpdateBody,
  TemplateView,
} from './notifications.schemas.ts';
import type { NotificationsService } from './notifications.service.ts';
import { preferencesOf, savePreferences } from './preferences.ts';

const tags = ['notify'];

export function notificationRoutes(service: NotificationsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    const db = () => service.database;
    const send = {
      config: { access: { permission: 'notify:send' }, idempotency: 'optional' as const },
      schema: {
        tags,
        summary: 'Send a templated notification to a customer or staff user (202: queued)',
        description:
          'Renders the template in the recipient’s language (falling back to English) for each of its channels, ' +
          'or those asked, and queues one message per channel and address; delivery happens in the worker with ' +
          'retries. A missing or undeclared variable is a 422 and nothing is queued. Channels that cannot be used ' +
          'come back `suppressed` with `error_code` NO_ADDRESS, OPTED_OUT (marketing without consent) or ' +
          'RECIPIENT_CLOSED (a closed customer is reached on no channel). ' +
          'Templates with secret variables (codes, reset links) are sent by the system only.',
        body: SendBody,
        response: { 202: SendResponse },
      },
    };
    for (const [url, operationId] of [
      ['/api/v1/notify/notification/send', 'sendNotification'],
      ['/api/v1/notify/send', 'sendNotificationAlias'],
    ] as const)
      app.post(url, { ...send, schema: { ...send.schema, operationId } }, async (request, reply) =>
        reply.code(202).send(await service.send(request.body, request.idempotency, contextOf(request))),
      );

    app.get(
      '/api/v1/notify/notification',
      {
        config: { access: { permission: 'notify:read' } },
        schema: {
          operationId: 'listNotifications',
          tags,
          summary: 'Messages sent, newest first, with their delivery status',
          querystring: NotificationQuery,
          response: { 200: NotificationPage },
        },
      },
      async (request) => service.reads.list(request.query),
    );

    app.get(
      '/api/v1/notify/notification/:id',
      {
        config: { access: { permission: 'notify:read' } },
        schema: {
          operationId: 'getNotification',
          tags,
          summary: 'One message: status, provider id, attempts, last error',
          params: IdParams,
          response: { 200: NotificationView },
        },
      },
      async (request) => service.reads.get(request.params.id),
    );

    app.post(
      '/api/v1/notify/notification/:id/retry',
      {
        config: { access: { permission: 'notify:send' } },
        schema: {
          operationId: 'retryNotification',
          tags,
          summary: 'Queue a failed or dead-lettered message again',
          params: IdParams,
          response: { 200: NotificationView },
        },
      },
      async (request) => service.retry(request.params.id, contextOf(request)),
    );

    app.get(
      '/api/v1/notify/template',
      {
        config: { access: { permission: 'notify:read' } },
        schema: {
          operationId: 'listNotificationTemplates',
          tags,
          summary: 'Templates (active versions unless include_retired)',
          querystring: TemplateQuery,
          response: { 200: TemplatePage },
        },
      },
      async (request) => service.templates.list(request.query),
    );

    app.get(
      '/api/v1/notify/template/:id',
      {
        config: { access: { permission: 'notify:read' } },
        schema: {
          operationId: 'getNotificationTemplate',
          tags,
          summary: 'One template version',
          params: IdParams,
          response: { 200: TemplateView },
        },
      },
      async (request) => service.templates.get(request.params.id),
    );

    app.post(
      '/api/v1/notify/template/add',
      {
        config: { access: { permission: 'notify:template_manage' } },
        schema: {
          operationId: 'createNotificationTemplate',
          tags,
          summary: 'Create a template for a code, channel and language (version 1)',
          description:
            'Placeholders are `{{name}}`; every placeholder must be declared in `variables` and every declared ' +
            'variable used. `secret_variables` are sealed at rest and masked in stored copies. SMS has no subject ' +
            'or HTML; email and push need a subject; only email has `html_body` (values are HTML-escaped into it).',
          body: TemplateBody,
          response: { 201: TemplateView },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await service.templates.create(request.body, contextOf(request))),
    );

    app.put(
      '/api/v1/notify/template/:id',
      {
        config: { access: { permission: 'notify:template_manage' } },
        schema: {
          operationId: 'updateNotificationTemplate',
          tags,
          summary: 'Edit the latest version: a new version becomes active, the old one is kept',
          params: IdParams,
          body: TemplateUpdateBody,
          response: { 200: TemplateView },
        },
      },
      async (request) => service.templates.update(request.params.id, request.body, contextOf(request)),
    );

    app.delete(
      '/api/v1/notify/template/:id',
      {
        config: { access: { permission: 'notify:template_manage' } },
        schema: {
          operationId: 'retireNotificationTemplate',
          tags,
          summary: 'Retire the active version (this language then falls back to English)',
          params: IdParams,
          response: { 200: TemplateView },
        },
      },
      async (request) => service.templates.retire(request.params.id, contextOf(request)),
    );

    app.get(
      '/api/v1/notify/inbox',
      {
        config: { access: { authenticated: true } },
        schema: {
          operationId: 'listInbox',
          tags,
          summary: 'My in-app notifications, newest first, with the unread count',
          querystring: InboxQuery,
          response: { 200: InboxPage },
        },
      },
      async (request) => {
        const principal = staffOrCustomer(requirePrincipal(request));
        return service.reads.inbox({ type: principal.type, id: principal.id }, request.query);
      },
    );

    app.post(
      '/api/v1/notify/inbox/:id/read',
      {
        config: { access: { authenticated: true } },
        schema: {
          operationId: 'markInboxRead',
          tags,
          summary: 'Mark one of my in-app notifications read',
          params: IdParams,
          response: { 200: InboxItem },
        },
      },
      async (request) => {
        const principal = staffOrCustomer(requirePrincipal(request));
        return service.reads.markRead({ type: principal.type, id: principal.id }, request.params.id);
      },
    );

    app.post(
      '/api/v1/notify/inbox/read-all',
      {
        config: { access: { authenticated: true } },
        schema: {
          operationId: 'markInboxAllRead',
          tags,
          summary: 'Mark all my in-app notifications read',
          response: { 200: MarkedView },
        },
      },
      async (request) => {
        const principal = staffOrCustomer(requirePrincipal(request));
        return service.reads.markAllRead({ type: principal.type, id: principal.id });
      },
    );

    app.get(
      '/api/v1/notify/preferences',
      {
        config: { access: { authenticated: true } },
        schema: {
          operationId: 'getNotificationPreferences',
          tags,
          summary: 'My language, time zone, quiet hours and marketing consent',
          response: { 200: PreferencesView },
        },
      },
      async (request) => {
        const principal = staffOrCustomer(requirePrincipal(request));
        return preferencesOf(db(), { type: principal.type, id: principal.id });
      },
    );

    app.put(
      '/api/v1/notify/preferences',
      {
        config: { access: { authenticated: true } },
        schema: {
          operationId: 'updateNotificationPreferences',
          tags,
          summary: 'Change my notification preferences (transactional messages always go)',
          body: PreferencesBody,
          response: { 200: PreferencesView },
        },
      },
      async (request) => {
        const principal = staffOrCustomer(requirePrincipal(request));
        return savePreferences(db(), { type: principal.type, id: principal.id }, request.body);
      },
    );
  };
}
