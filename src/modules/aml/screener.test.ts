/**
 * The Screener on the real database: the index built from the current version of each list, a screening recorded
 * with its matches, fields, best score and list versions, the band deciding the alert (through the cases area's
 * AlertSink), a newer list version picked up by the next screening, and isPep.
 */
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { eq } from 'drizzle-orm';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { CaseAlertSink } from './aml.alerts.ts';
import { AmlScreener } from './aml.screener.ts';
import { amlAlerts, amlListEntries, amlLists, amlScreenings, type ListSource } from './aml.tables.ts';

interface Listed {
  externalId: string;
  name: string;
  aliases?: string[];
  birthDates?: string[];
  nationalities?: string[];
  pep?: boolean;
}

describe('AmlScreener', () => {
  let t: TestContext;
  let screener: AmlScreener;
  const db = () => t.deps.database.db;

  /** A list version as the loader stores it (the loader itself is the lists area's, tested there). */
  async function loadList(source: ListSource, version: number, entries: Listed[]): Promise<string> {
    const listId = uuidv7();
    await db()
      .insert(amlLists)
      .values({
        id: listId,
        source,
        version,
        origin: `test:${source}:${version}`,
        checksum: createHash('sha256').update(`${source}${version}${randomUUID()}`).digest('hex'),
        entryCount: entries.length,
      });
    await db()
      .insert(amlListEntries)
      .values(
        entries.map((entry) => ({
          id: uuidv7(),
          listId,
          source,
          externalId: entry.externalId,
          kind: 'person' as const,
          name: entry.name,
          aliases: entry.aliases ?? [],
          birthDates: entry.birthDates ?? [],
          nationalities: entry.nationalities ?? [],
          pep: entry.pep ?? false,
          fingerprint: createHash('sha256').update(JSON.stringify(entry)).digest('hex'),
        })),
      );
    return listId;
  }

  before(async () => {
    t = await startTestApp();
    const settings = t.application.settings;
    // Entries read two at a time: the paging a million-entry list goes through.
    screener = new AmlScreener(
      t.deps,
      { alerts: new CaseAlertSink({ settings }), settings },
      { loadPage: 2 },
    );
    await loadList('un', 1, [
      {
        externalId: 'QDi.901',
        name: 'Abd al-Rahman Yusuf AL-ZAWAHIRI',
        aliases: ['Abdurrahman Zawahiri', 'Abu Yusuf al-Masri'],
        birthDates: ['1961-05-14'],
        nationalities: ['EG'],
      },
      { externalId: 'QDi.902', name: 'Ivan Petrovich Sokolov', birthDates: ['1970'], nationalities: ['RU'] },
    ]);
    await loadList('opensanctions', 1, [
      { externalId: 'Q-pep-1', name: 'Grace Wanjiru Kamau', pep: true, nationalities: ['KE'] },
    ]);
  });
  after(() => t.close());

  test('reload builds the index from the current version of each list', async () => {
    const loaded = await screener.reload();
    assert.deepEqual(loaded.versions, { opensanctions: 1, un: 1 });
    assert.equal(loaded.entries, 3);
  });

  test('a hit: recorded with its matches, fields and list versions; a high alert for the customer', async () => {
    const customerId = randomUUID();
    const record = await screener.screen({
      kind: 'customer',
      subjectId: customerId,
      customerId,
      name: 'Abdul Rahman Youssef Zawahiri',
      birthDate: '1961-05-14',
      nationality: 'EG',
      trigger: 'kyc_changed',
    });
    assert.equal(record.outcome, 'hit');
    const [best] = record.matches;
    assert.ok(best);
    assert.equal(best.external_id, 'QDi.901');
    assert.equal(best.source, 'un');
    assert.equal(record.bestScore, best.score);
    assert.ok(best.score >= 0.93, `score ${best.score}`);
    assert.equal((best.fields.birth_date as { result: string }).result, 'match');
    assert.equal((best.fields.nationality as { result: string }).result, 'match');
    assert.ok(Array.isArray(best.fields.tokens) && (best.fields.tokens as unknown[]).length > 0);

    const [row] = await db().select().from(amlScreenings).where(eq(amlScreenings.id, record.id));
    assert.ok(row);
    assert.equal(row.outcome, 'hit');
    assert.equal(row.subjectKind, 'customer');
    assert.equal(row.subjectId, customerId);
    assert.equal(row.trigger, 'kyc_changed');
    assert.equal(row.birthDate, '1961-05-14');
    assert.deepEqual(row.listVersions, { opensanctions: 1, un: 1 });
    assert.equal(row.matches[0]?.external_id, 'QDi.901');

    const alerts = await db().select().from(amlAlerts).where(eq(amlAlerts.customerId, customerId));
    assert.equal(alerts.length, 1);
    assert.equal(alerts[0]?.source, 'screening');
    assert.equal(alerts[0]?.pattern, 'screening');
    assert.equal(alerts[0]?.priority, 'high');
    assert.equal(alerts[0]?.evidence.screening_id, record.id);
    assert.ok(alerts[0]?.caseId);
  });

  test('the review band raises a medium alert; a clear name records a screening and raises nothing', async () => {
    const customerId = randomUUID();
    // The list's middle name (patronymic) is missing and no date of birth is given: review, not hit.
    const review = await screener.screen({
      kind: 'onboarding',
      subjectId: randomUUID(),
      customerId,
      name: 'Ivan Sokolov',
      trigger: 'registration',
    });
    assert.equal(review.outcome, 'review', `score ${review.bestScore}`);
    const alerts = await db().select().from(amlAlerts).where(eq(amlAlerts.customerId, customerId));
    assert.deepEqual(
      alerts.map((alert) => alert.priority),
      ['medium'],
    );

    const clearCustomer = randomUUID();
    const clear = await screener.screen({
      kind: 'customer',
      subjectId: clearCustomer,
      customerId: clearCustomer,
      name: 'Ivan Sobolev',
      birthDate: '1999-01-01',
      trigger: 'kyc_changed',
    });
    assert.equal(clear.outcome, 'clear');
    assert.deepEqual(clear.matches, []);
    assert.equal(
      (await db().select().from(amlAlerts).where(eq(amlAlerts.customerId, clearCustomer))).length,
      0,
    );
    const [row] = await db().select().from(amlScreenings).where(eq(amlScreenings.id, clear.id));
    assert.equal(row?.outcome, 'clear');
  });

  test('a name-only check (no customer or agent behind it) is recorded without an alert', async () => {
    const before = (await db().select().from(amlAlerts)).length;
    const record = await screener.screen({
      kind: 'beneficiary',
      name: 'Zawahiri Abdurrahman',
      trigger: 'transfer',
    });
    assert.notEqual(record.outcome, 'clear');
    assert.equal((await db().select().from(amlAlerts)).length, before);
    const empty = await screener.screen({ kind: 'beneficiary', name: '...', trigger: 'transfer' });
    assert.equal(empty.outcome, 'clear');
  });

  test('isPep: the latest screening matched a PEP entry at or above the review band', async () => {
    const customerId = randomUUID();
    assert.equal(await screener.isPep(customerId), false, 'never screened');
    await screener.screen({
      kind: 'customer',
      subjectId: customerId,
      customerId,
      name: 'Kamau Grace Wanjiru',
      nationality: 'KE',
      trigger: 'kyc_changed',
    });
    assert.equal(await screener.isPep(customerId), true);
    await screener.screen({
      kind: 'customer',
      subjectId: customerId,
      customerId,
      name: 'Grace Achieng',
      trigger: 'name_changed',
    });
    assert.equal(await screener.isPep(customerId), false, 'the latest screening decides');
  });

  test('a newer version of a list replaces the old one at the next screening, whichever node loaded it', async () => {
    await loadList('un', 2, [
      { externalId: 'QDi.902', name: 'Ivan Petrovich Sokolov', birthDates: ['1970'] },
    ]);
    const record = await screener.screen({
      kind: 'beneficiary',
      name: 'Abdurrahman Zawahiri',
      trigger: 'transfer',
    });
    assert.equal(record.outcome, 'clear', 'the entry left the UN list in version 2');
    const [row] = await db().select().from(amlScreenings).where(eq(amlScreenings.id, record.id));
    assert.deepEqual(row?.listVersions, { opensanctions: 1, un: 2 });
    const again = await screener.screen({
      kind: 'beneficiary',
      name: 'Ivan P. Sokolov',
      trigger: 'transfer',
    });
    assert.equal(again.matches[0]?.external_id, 'QDi.902');
  });
});
