/**
 * The SMS a customer gets when a USSD step outlived the step budget: the screen the step ended with, once known
 * (template `ussd.outcome`, seeded from this module's `seed/template_seed.json`).
 */
import { join } from 'node:path';
import { inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { type NotificationsService, TemplatesService } from '../notifications/index.ts';
import type { OutcomeNotifier } from './ussd.engine.ts';

export const USSD_SEED_DIR = join(import.meta.dirname, 'seed');

export async function seedUssdTemplates(deps: Dependencies): Promise<void> {
  await new TemplatesService(deps.database.db).seed(USSD_SEED_DIR);
}

export function outcomeNotifier(
  deps: Dependencies,
  notifications: NotificationsService,
  logger: { warn(object: object, message: string): void },
): OutcomeNotifier {
  return {
    async outcome(to, message, key) {
      if (!to.customerId) {
        // An unknown number has no principal to address; registration sends its own confirmation.
        logger.warn({ key }, 'ussd outcome of an unknown number not sent');
        return;
      }
      await inTransaction(deps.database.db, (tx) =>
        notifications.queue(tx, {
          recipient: { type: 'customer', id: to.customerId! },
          template: 'ussd.outcome',
          channels: ['sms'],
          variables: { message },
          addresses: { sms: to.msisdn },
          language: to.language,
          dedupeKey: key,
        }),
      );
    },
  };
}
