/** Notification retention: old finished messages and old delivery reports go, in batches; queued ones and recent ones stay. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { inArray, like } from 'drizzle-orm';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { purgeOldNotifications, uuidv7Floor } from './notifications.retention.ts';
import { notificationDeliveryReports, notifications, notificationTemplates } from './notifications.tables.ts';

describe('notification retention', () => {
  let t: TestContext;
  before(async () => {
    t = await startTestApp();
  });
  after(async () => t.close());

  test('the UUIDv7 floor of an instant sorts below the ids made after it and above those made before', () => {
    const id = uuidv7();
    assert.ok(uuidv7Floor(Date.now() - 1000) < id);
    assert.ok(uuidv7Floor(Date.now() + 1000) > id);
  });

  test('finished notifications and reports older than the window go; queued, sending and recent ones stay', async () => {
    const db = t.deps.database.db;
    const [template] = await db.select().from(notificationTemplates).limit(1);
    assert.ok(template, 'the seed has templates');
    const daysAgo = (n: number) => Date.now() - n * 86_400_000;
    // An id as uuidv7 made it at that time (uuidv7 itself never goes back in time within a process).
    const idAt = (ms: number) => `${uuidv7Floor(ms).slice(0, 24)}${randomBytes(6).toString('hex')}`;
    const row = (label: string, status: (typeof notifications.$inferInsert)['status'], ageDays: number) => {
      const at = daysAgo(ageDays);
      return {
        id: idAt(at),
        recipientType: 'user' as const,
        recipientId: uuidv7(),
        channel: 'sms' as const,
        category: template.category,
        templateCode: template.code,
        templateId: template.id,
        language: 'en',
        address: '+254700000000',
        body: `retention ${label}`,
        variables: {},
        status,
        dedupeKey: `retention:${label}`,
        createdAt: new Date(at),
        updatedAt: new Date(at),
      };
    };
    const old = [
      ...Array.from({ length: 5 }, (_, index) => row(`old-sent-${index}`, 'sent', 400)),
      row('old-delivered', 'delivered', 200),
      row('old-failed', 'failed', 100),
      row('old-dead', 'dead', 100),
      row('old-suppressed', 'suppressed', 100),
    ];
    const kept = [
      row('old-queued', 'queued', 100),
      row('old-sending', 'sending', 100),
      row('recent-sent', 'sent', 10),
    ];
    await db.insert(notifications).values([...old, ...kept]);
    const report = (label: string, ageDays: number) => ({
      id: idAt(daysAgo(ageDays)),
      provider: 'twilio',
      eventKey: `retention:${label}`,
      providerMessageId: `SM-${label}`,
      providerStatus: 'delivered',
      payload: {},
      receivedAt: new Date(daysAgo(ageDays)),
    });
    await db.insert(notificationDeliveryReports).values([report('old', 120), report('recent', 5)]);

    assert.deepEqual(await purgeOldNotifications(db, 0), { notifications: 0, reports: 0 }, '0 keeps all');
    // A batch smaller than the doomed rows: the purge goes round until none is left.
    const removed = await purgeOldNotifications(db, 30, Date.now(), 2);
    assert.deepEqual(removed, { notifications: old.length, reports: 1 });
    const left = await db
      .select({ body: notifications.body })
      .from(notifications)
      .where(like(notifications.body, 'retention %'));
    assert.deepEqual(left.map((entry) => entry.body).sort(), kept.map((entry) => entry.body).sort());
    const reports = await db
      .select({ key: notificationDeliveryReports.eventKey })
      .from(notificationDeliveryReports)
      .where(inArray(notificationDeliveryReports.eventKey, ['retention:old', 'retention:recent']));
    assert.deepEqual(reports, [{ key: 'retention:recent' }]);
  });
});
