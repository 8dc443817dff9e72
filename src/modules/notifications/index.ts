/**
 * Notifications: templates, queuing inside business transactions, delivery by SMS (Twilio, Africa's Talking), email
 * (SMTP, SendGrid), push (FCM) and the in-app inbox (live over the WebSocket), provider delivery reports, and the
 * outbox handlers that turn domain events into messages.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Dependencies } from '../../platform/dependencies.ts';
import { defineModule } from '../../platform/modules.ts';
import { EventBus } from '../../platform/outbox-dispatcher.ts';
import { RealtimeHub } from '../../platform/realtime.ts';
import { SEED_DIR } from '../../platform/seed.ts';
import { walletsModule } from '../wallets/index.ts';
import { callbackRoutes } from './callbacks.routes.ts';
import { devMessageRoutes } from './dev-messages.routes.ts';
import { type DevMessageSink, devSinkFromConfig } from './dev-sink.ts';
import { type NotificationsConfig, notificationsConfig } from './notifications.config.ts';
import {
  type DeliveryChannels,
  NotificationDelivery,
  type RealtimePublisher,
} from './notifications.delivery.ts';
import { NOTIFICATIONS_CONSUMER, notificationSubscriptions } from './notifications.events.ts';
import { purgeOldNotifications } from './notifications.retention.ts';
import { notificationRoutes } from './notifications.routes.ts';
import { DELIVER_JOB, NotificationsService } from './notifications.service.ts';
import {
  notificationDeliveryReports,
  notificationPreferences,
  notifications,
  notificationTemplates,
} from './notifications.tables.ts';
import { storedTimeZone } from './preferences.ts';
import { channelsFromConfig } from './providers.ts';
import { TemplatesService } from './templates.service.ts';

export { type DevMessage, DevMessageSink } from './dev-sink.ts';
export type { DeliveryChannels, RealtimePublisher } from './notifications.delivery.ts';
export { backoffMs, NotificationDelivery } from './notifications.delivery.ts';
export { NOTIFICATIONS_CONSUMER, notificationSubscriptions } from './notifications.events.ts';
export { purgeOldNotifications } from './notifications.retention.ts';
export { NotificationsService, type NotifyRequest } from './notifications.service.ts';
export { notifications, notificationTemplates } from './notifications.tables.ts';
export { storedTimeZone } from './preferences.ts';
export { channelsFromConfig } from './providers.ts';
export { TemplatesService } from './templates.service.ts';
export { DELIVER_JOB };

export interface NotificationsRuntime {
  templates: TemplatesService;
  service: NotificationsService;
  delivery: NotificationDelivery;
  /**
   * The event bus this module's consumer (`notifications`) is subscribed on: the one passed in (the composition
   * root's, shared by every consumer), else one of its own.
   */
  dispatcher: EventBus;
  /** The development message sink when DEV_MESSAGE_SINK is on (never in production). */
  devSink: DevMessageSink | null;
}

/** The configured providers, with the development sink standing in for a channel that has none. */
function channelsWithDevSink(channels: DeliveryChannels, sink: DevMessageSink | null): DeliveryChannels {
  if (!sink) return channels;
  return {
    ...channels,
    sms: channels.sms.length > 0 ? channels.sms : [sink.sms],
    email: channels.email ?? sink.email,
  };
}

/** Everything but the routes: what the worker needs (delivery job, dispatcher) and what the API enqueues with. */
export function createNotificationsRuntime(
  deps: Dependencies,
  config: NotificationsConfig,
  options: { realtime?: RealtimePublisher | null; channels?: DeliveryChannels; bus?: EventBus } = {},
): NotificationsRuntime {
  const templates = new TemplatesService(deps.database.db);
  const service = new NotificationsService(deps, templates);
  const devSink = devSinkFromConfig(config, deps.config, deps.store);
  const delivery = new NotificationDelivery(
    deps,
    templates,
    options.channels ?? channelsWithDevSink(channelsFromConfig(config), devSink),
    options.realtime ?? null,
    config,
  );
  // Within the module system the bus is the system's, and the system subscribes this module's consumer
  // (`subscribes`); on its own (tests of the runtime) it gets a bus of its own with its handlers.
  let dispatcher = options.bus;
  if (!dispatcher) {
    dispatcher = new EventBus(deps.database.db);
    for (const { topic, handler } of notificationSubscriptions(deps, service, config.PASSWORD_RESET_URL))
      dispatcher.subscribe(NOTIFICATIONS_CONSUMER, topic, handler);
  }
  return { templates, service, delivery, dispatcher, devSink };
}

export const notificationsModule = defineModule({
  name: 'notifications',
  description:
    'Templates, queuing inside business transactions, delivery by SMS, email, push and the in-app inbox, delivery reports',
  dependsOn: ['wallets'],
  config: notificationsConfig,
  tables: { notificationTemplates, notifications, notificationDeliveryReports, notificationPreferences },
  permissions: [
    { code: 'notify:read', description: 'Read notifications and delivery status' },
    { code: 'notify:send', description: 'Send notifications' },
    { code: 'notify:template_manage', description: 'Manage notification templates' },
    {
      code: 'dev:message_read',
      description:
        'Read the messages kept by the development message sink (codes, reset links; never in production)',
    },
  ],
  create(ctx) {
    const runtime = createNotificationsRuntime(ctx.deps, ctx.config, {
      realtime: new RealtimeHub(ctx.deps.store),
      bus: ctx.events,
    });
    // Receipts and statements show times in the customer's own zone (their preferences).
    ctx
      .use(walletsModule)
      .documents.setTimeZoneLookup((customerId) =>
        storedTimeZone(ctx.deps.database.db, { type: 'customer', id: customerId }),
      );
    return runtime;
  },
  routes: (runtime, { deps, config }) => {
    const plugins: FastifyPluginAsync[] = [
      notificationRoutes(runtime.service),
      callbackRoutes(config, deps.config.PUBLIC_BASE_URL, runtime.delivery),
    ];
    const sink = runtime.devSink;
    if (sink)
      plugins.push(async (app) => {
        sink.log = app.log;
        await app.register(devMessageRoutes(sink));
      });
    return plugins;
  },
  jobs: (runtime, { config }) => [
    {
      name: DELIVER_JOB,
      // Our own retry schedule (backoff with jitter, dead-letter) lives in the row; the queue's retries only cover a
      // worker that died or a database hiccup.
      retryLimit: 10,
      retryDelaySeconds: 10,
      expireInSeconds: 60,
      batchSize: 20,
      handle: async (data: { id: string }) => {
        await runtime.delivery.deliver(data.id);
      },
    },
    {
      name: 'notify.sweep',
      schedule: '* * * * *',
      retryLimit: 1,
      handle: async () => {
        await runtime.delivery.sweep();
      },
    },
    {
      name: 'maintenance.purge-old-notifications',
      schedule: '37 2 * * *',
      run: (db) => purgeOldNotifications(db, config.NOTIFICATION_RETENTION_DAYS),
    },
  ],
  subscribes: (runtime, { deps, config }) =>
    notificationSubscriptions(deps, runtime.service, config.PASSWORD_RESET_URL),
  seed: ({ deps }) => seedTemplates(deps).then(() => {}),
});

export async function seedTemplates(deps: Dependencies): Promise<number> {
  return new TemplatesService(deps.database.db).seed(SEED_DIR);
}
