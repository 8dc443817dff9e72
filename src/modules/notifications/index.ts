/**
 * Notifications: templates, queuing inside business transactions, delivery by SMS (Twilio, Africa's Talking), email
 * (SMTP, SendGrid), push (FCM) and the in-app inbox (live over the WebSocket), provider delivery reports, and the
 * outbox handlers that turn domain events into messages.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Dependencies } from '../../platform/dependencies.ts';
import { OutboxDispatcher } from '../../platform/outbox-dispatcher.ts';
import { SEED_DIR } from '../identity/index.ts';
import { callbackRoutes } from './callbacks.routes.ts';
import { devMessageRoutes } from './dev-messages.routes.ts';
import { type DevMessageSink, devSinkFromConfig } from './dev-sink.ts';
import {
  type DeliveryChannels,
  NotificationDelivery,
  type RealtimePublisher,
} from './notifications.delivery.ts';
import { notificationHandlers } from './notifications.events.ts';
import { notificationRoutes } from './notifications.routes.ts';
import { DELIVER_JOB, NotificationsService } from './notifications.service.ts';
import { channelsFromConfig } from './providers.ts';
import { TemplatesService } from './templates.service.ts';

export { type DevMessage, DevMessageSink } from './dev-sink.ts';
export type { DeliveryChannels, RealtimePublisher } from './notifications.delivery.ts';
export { backoffMs, NotificationDelivery } from './notifications.delivery.ts';
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
  dispatcher: OutboxDispatcher;
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
  options: { realtime?: RealtimePublisher | null; channels?: DeliveryChannels } = {},
): NotificationsRuntime {
  const templates = new TemplatesService(deps.database.db);
  const service = new NotificationsService(deps, templates);
  const devSink = devSinkFromConfig(deps.config, deps.store);
  const delivery = new NotificationDelivery(
    deps,
    templates,
    options.channels ?? channelsWithDevSink(channelsFromConfig(deps.config), devSink),
    options.realtime ?? null,
  );
  const dispatcher = new OutboxDispatcher(deps.database.db, notificationHandlers(deps, service));
  return { templates, service, delivery, dispatcher, devSink };
}

/** Defines the delivery job and the sweeper; call once per process, before `jobs.start()`. */
export function defineNotificationJobs(deps: Dependencies, runtime: NotificationsRuntime): void {
  deps.jobs.define<{ id: string }>({
    name: DELIVER_JOB,
    // Our own retry schedule (backoff with jitter, dead-letter) lives in the row; the queue's retries only cover a
    // worker that died or a database hiccup.
    retryLimit: 10,
    retryDelaySeconds: 10,
    expireInSeconds: 60,
    batchSize: 20,
    handle: async (data) => {
      await runtime.delivery.deliver(data.id);
    },
  });
  deps.jobs.define({
    name: 'notify.sweep',
    schedule: '* * * * *',
    retryLimit: 1,
    handle: async () => {
      await runtime.delivery.sweep();
    },
  });
}

export function notificationsModule(deps: Dependencies, runtime: NotificationsRuntime): FastifyPluginAsync {
  return async (app) => {
    await app.register(notificationRoutes(runtime.service));
    await app.register(callbackRoutes(deps.config, runtime.delivery));
    if (runtime.devSink) {
      runtime.devSink.log = app.log;
      await app.register(devMessageRoutes(runtime.devSink));
    }
  };
}

export async function seedTemplates(deps: Dependencies): Promise<number> {
  return new TemplatesService(deps.database.db).seed(SEED_DIR);
}
