/**
 * Sanctions and PEP lists: each parser on its fictitious fixture in the published format (counts, aliases, dates of
 * birth, nationalities, PEPs), then loading as versions: the same file again is a no-op, a second version's diff
 * counts (one added, one removed, one changed), the event, a malformed file refused, and the CLI command (spawned).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { systemContext } from '../../platform/audit.ts';
import { AppError } from '../../platform/error-catalogue.ts';
import { countryCode, type ParsedEntry, parseList } from './aml.lists.parse.ts';
import { ListLoader } from './aml.lists.ts';
import { fileAt, watchLists } from './aml.lists.watch.ts';
import type { ListSource } from './aml.tables.ts';

const DIR = 'data/aml/lists';

async function parsed(source: ListSource, path: string, alt?: string): Promise<ParsedEntry[]> {
  const entries: ParsedEntry[] = [];
  for await (const entry of parseList(source, fileAt(path), alt ? fileAt(alt) : undefined))
    entries.push(entry);
  return entries;
}

const byId = (entries: ParsedEntry[], id: string) => {
  const entry = entries.find((item) => item.externalId === id);
  assert.ok(entry, `no entry ${id}`);
  return entry;
};

describe('list parsers', () => {
  test('UN consolidated list XML: individuals and entities, aliases, dates or years of birth, nationalities', async () => {
    const entries = await parsed('un', `${DIR}/un-consolidated.xml`);
    assert.equal(entries.length, 24);
    assert.equal(entries.filter((entry) => entry.kind === 'person').length, 18);
    assert.equal(entries.filter((entry) => entry.kind === 'organization').length, 6);
    const first = byId(entries, 'XXi.100');
    assert.equal(first.name, 'ABDUL RAHMAN QASIM AL-TIKRITI');
    assert.deepEqual(first.aliases, ['Abd al-Rahman Kasim', 'Abdulrahman al Tikriti']);
    assert.deepEqual(first.birthDates, ['1962-03-14']);
    assert.deepEqual(first.nationalities, ['IQ']);
    assert.deepEqual(first.programs, ['Al-Qaida']);
    // A year only, twice; the list's country spellings.
    assert.deepEqual(byId(entries, 'XXi.104').birthDates, ['1959-01-30', '1960']);
    assert.deepEqual(byId(entries, 'XXi.103').nationalities, ['KP']);
    assert.deepEqual(byId(entries, 'XXi.107').nationalities, ['CD']);
    assert.equal(byId(entries, 'XXi.112').name, 'NGUYEN VAN THẮNG');
    // An empty alias element is no alias.
    assert.deepEqual(byId(entries, 'XXi.104').aliases, []);
    const entity = byId(entries, 'XXe.100');
    assert.equal(entity.kind, 'organization');
    assert.deepEqual(entity.aliases, ['NOOR CHARITY FOUNDATION', 'AL NUR TRUST']);
    assert.ok(entries.every((entry) => !entry.pep));
  });

  test('OFAC SDN CSV with alt.csv: names put in order, aliases, DOB and nationality from the remarks', async () => {
    const entries = await parsed('ofac', `${DIR}/ofac-sdn.csv`, `${DIR}/ofac-alt.csv`);
    assert.equal(entries.length, 25);
    const karimi = byId(entries, '36002');
    assert.equal(karimi.kind, 'person');
    assert.equal(karimi.name, 'Hossein KARIMI');
    assert.deepEqual(karimi.aliases, ['Hosein KARIMI', 'Husayn KERIMI']);
    assert.deepEqual(karimi.birthDates, ['1966-09-17', '1967']);
    assert.deepEqual(karimi.nationalities, ['IR']);
    assert.deepEqual(karimi.programs, ['IRAN', 'SDGT']);
    assert.deepEqual(byId(entries, '36006').nationalities, ['KP']);
    assert.deepEqual(byId(entries, '36009').birthDates, ['1984-08']);
    assert.deepEqual(byId(entries, '36003').birthDates, ['1974']);
    assert.equal(byId(entries, '36005').name, 'Günther MÜLLER');
    const shipping = byId(entries, '36016');
    assert.equal(shipping.kind, 'organization');
    assert.equal(shipping.name, 'NOVA HORIZON SHIPPING LTD');
    assert.deepEqual(shipping.aliases, ['NEW HORIZON MARITIME LTD']);
    assert.equal(byId(entries, '36020').kind, 'vessel');
    // Without the alias file: the same entries, no aliases.
    const bare = await parsed('ofac', `${DIR}/ofac-sdn.csv`);
    assert.equal(bare.length, 25);
    assert.deepEqual(byId(bare, '36002').aliases, []);
  });

  test('OpenSanctions FollowTheMoney JSON lines: persons and organizations, PEPs by topic, non-subjects skipped', async () => {
    const entries = await parsed('opensanctions', `${DIR}/opensanctions.jsonl`);
    assert.equal(entries.length, 24, 'the Address entity is not a subject');
    const peps = entries.filter((entry) => entry.pep).map((entry) => entry.externalId);
    assert.deepEqual(peps.sort(), [
      'NK-fict-pep-001',
      'NK-fict-pep-002',
      'NK-fict-pep-003',
      'NK-fict-pep-004',
      'NK-fict-pep-005',
      'NK-fict-pep-015',
      'NK-fict-san-007',
    ]);
    const pep = byId(entries, 'NK-fict-pep-001');
    assert.equal(pep.name, 'Joseph Kiprono Chebet');
    assert.deepEqual(pep.aliases, ['Joseph K. Chebet']);
    assert.deepEqual(pep.birthDates, ['1963-04-18']);
    assert.deepEqual(pep.nationalities, ['KE']);
    assert.deepEqual(byId(entries, 'NK-fict-san-007').nationalities, ['RU', 'BY']);
    assert.equal(byId(entries, 'NK-fict-org-019').kind, 'organization');
    assert.deepEqual(byId(entries, 'NK-fict-org-023').programs, ['sanction']);
  });

  test('country names, alpha-3 codes and unknown countries', () => {
    assert.equal(countryCode('Iran (Islamic Republic of)'), 'IR');
    assert.equal(countryCode('Korea, North'), 'KP');
    assert.equal(countryCode('KEN'), 'KE');
    assert.equal(countryCode('ke'), 'KE');
    assert.equal(countryCode('Atlantis'), null);
  });
});

describe('loading lists as versions', () => {
  let t: TestContext;
  let loader: ListLoader;

  before(async () => {
    t = await startTestApp();
    loader = new ListLoader(t.deps.database.db);
  });
  after(async () => t.close());

  const listEvents = async () =>
    (
      (await t.deps.database.db.execute(
        sql`select payload from outbox_events where topic = 'aml.list_loaded' order by id`,
      )) as unknown as { rows: { payload: Record<string, unknown> }[] }
    ).rows.map((row) => (typeof row.payload === 'string' ? JSON.parse(row.payload) : row.payload));

  test('a first version, the same file again (no version), then v2 with one added, one removed, one changed', async () => {
    const first = await loader.load('un', fileAt(`${DIR}/un-consolidated.xml`), undefined, systemContext());
    assert.equal(first.unchanged, false);
    assert.equal(first.list.version, 1);
    assert.equal(first.list.entry_count, 24);
    assert.deepEqual([first.list.added, first.list.removed, first.list.changed], [24, 0, 0]);

    const again = await loader.load('un', fileAt(`${DIR}/un-consolidated.xml`), undefined, systemContext());
    assert.equal(again.unchanged, true);
    assert.equal(again.list.id, first.list.id);

    const second = await loader.load(
      'un',
      fileAt(`${DIR}/v2/un-consolidated.xml`),
      undefined,
      systemContext(),
    );
    assert.equal(second.unchanged, false);
    assert.equal(second.list.version, 2);
    assert.equal(second.list.entry_count, 24);
    assert.deepEqual([second.list.added, second.list.removed, second.list.changed], [1, 1, 1]);

    const versions = await loader.versions('un');
    assert.deepEqual(
      versions.map((version) => [version.version, version.current]),
      [
        [2, true],
        [1, false],
      ],
    );
    assert.deepEqual(await loader.currentVersions(), { un: 2 });
    const events = await listEvents();
    assert.equal(events.length, 2, 'the no-op load published nothing');
    assert.deepEqual(events[1], {
      list_id: second.list.id,
      source: 'un',
      version: 2,
      entry_count: 24,
      added: 1,
      removed: 1,
      changed: 1,
    });
    const entries = await loader.entries(second.list.id, { limit: 100 });
    assert.ok(entries.some((entry) => entry.externalId === 'XXi.200'));
    assert.ok(!entries.some((entry) => entry.externalId === 'XXi.115'));
    const changed = entries.find((entry) => entry.externalId === 'XXi.102');
    assert.deepEqual(changed?.birthDates, ['1970-02-17']);
  });

  test('the other sources load beside it, OFAC with its aliases', async () => {
    const ofac = await loader.load(
      'ofac',
      fileAt(`${DIR}/ofac-sdn.csv`),
      fileAt(`${DIR}/ofac-alt.csv`),
      systemContext(),
    );
    assert.equal(ofac.list.entry_count, 25);
    const entries = await loader.entries(ofac.list.id);
    assert.deepEqual(entries.find((entry) => entry.externalId === '36001')?.aliases, [
      'Dmitry VORONTSOV',
      'Dimitri WORONZOW',
    ]);
    const open = await loader.load(
      'opensanctions',
      fileAt(`${DIR}/opensanctions.jsonl`),
      undefined,
      systemContext(),
    );
    assert.equal(open.list.entry_count, 24);
    assert.equal((await loader.entries(open.list.id)).filter((entry) => entry.pep).length, 7);
  });

  test('a file not in the source’s format is refused with AML_LIST_INVALID and adds no version', async () => {
    await assert.rejects(
      loader.load('un', fileAt(`${DIR}/ofac-sdn.csv`), undefined, systemContext()),
      (error: unknown) => error instanceof AppError && error.errorCode === 'AML_LIST_INVALID',
    );
    await assert.rejects(
      loader.load('ofac', fileAt(`${DIR}/opensanctions.jsonl`), undefined, systemContext()),
      (error: unknown) => error instanceof AppError && error.errorCode === 'AML_LIST_INVALID',
    );
    await assert.rejects(
      loader.load('opensanctions', fileAt(`${DIR}/un-consolidated.xml`), undefined, systemContext()),
      (error: unknown) => error instanceof AppError && error.errorCode === 'AML_LIST_INVALID',
    );
    assert.deepEqual(await loader.currentVersions(), { un: 2, ofac: 1, opensanctions: 1 });
  });

  test('the CLI command loads a file (and says when it is unchanged)', {
    skip: !t_databaseUrl(),
  }, async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
        const child = spawn(process.execPath, ['src/cli.ts', ...args], {
          env: {
            ...process.env,
            DATABASE_URL: t.config.DATABASE_URL,
            REDIS_URL: process.env.REDIS_URL,
            LOG_LEVEL: 'error',
          },
        });
        let out = '';
        let err = '';
        child.stdout.on('data', (chunk) => {
          out += chunk;
        });
        child.stderr.on('data', (chunk) => {
          err += chunk;
        });
        child.on('close', (code) => resolve({ code, out, err }));
      });
    const loaded = await run(['aml-lists-load', 'ofac', `${DIR}/ofac-sdn.csv`]);
    assert.equal(loaded.code, 0, loaded.err);
    // Without the alias file the checksum differs from the loaded version: a version 2 with 12 aliases fewer.
    assert.match(loaded.out, /ofac: version 2 loaded, 25 entries \(added 0, removed 0, changed 10\)/);
    const again = await run(['aml-lists-load', 'ofac', `${DIR}/ofac-sdn.csv`]);
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /ofac: unchanged \(the same file as version 2\), nothing loaded/);
    const bad = await run(['aml-lists-load', 'un', `${DIR}/ofac-sdn.csv`]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /cannot be read/);
  });
});

describe('the list watcher', () => {
  let t: TestContext;
  let loader: ListLoader;
  let dir: string;

  before(async () => {
    t = await startTestApp();
    loader = new ListLoader(t.deps.database.db);
    dir = await mkdtemp(join(tmpdir(), 'aml-lists-test-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
    await t.close();
  });

  test('a directory of files named by source: loaded once, then only when a file changed', async () => {
    await copyFile(`${DIR}/un-consolidated.xml`, join(dir, 'un-consolidated.xml'));
    await copyFile(`${DIR}/ofac-sdn.csv`, join(dir, 'ofac-sdn.csv'));
    await copyFile(`${DIR}/ofac-alt.csv`, join(dir, 'ofac-alt.csv'));
    const config = { AML_LISTS_DIR: dir, AML_LISTS_RESCREEN_BATCH: 200 };
    const first = await watchLists(loader, config);
    assert.deepEqual(
      first.map((result) => [result.source, result.outcome?.unchanged, result.outcome?.list.entry_count]),
      [
        ['un', false, 24],
        ['ofac', false, 25],
      ],
    );
    const ofac = await loader.entries(first[1]!.outcome!.list.id);
    assert.equal(
      ofac.find((entry) => entry.externalId === '36002')?.aliases.length,
      2,
      'alt.csv read beside it',
    );
    const second = await watchLists(loader, config);
    assert.deepEqual(
      second.map((result) => [result.source, result.outcome?.unchanged]),
      [
        ['un', true],
        ['ofac', true],
      ],
    );
    await copyFile(`${DIR}/v2/un-consolidated.xml`, join(dir, 'un-consolidated.xml'));
    const third = await watchLists(loader, config);
    assert.equal(third[0]?.outcome?.unchanged, false);
    assert.equal(third[0]?.outcome?.list.version, 2);
    assert.equal(third[1]?.outcome?.unchanged, true);
  });

  test('a configured URL is downloaded and loaded; a failing one is reported without stopping the others', async () => {
    const body = await readFile(`${DIR}/opensanctions.jsonl`);
    const server = createServer((request, response) => {
      if (request.url === '/entities.ftm.json') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(body);
      } else {
        response.writeHead(404);
        response.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const results = await watchLists(loader, {
        AML_LISTS_URL_OFAC: `${base}/missing.csv`,
        AML_LISTS_URL_OPENSANCTIONS: `${base}/entities.ftm.json`,
        AML_LISTS_RESCREEN_BATCH: 200,
      });
      assert.equal(results.length, 2);
      assert.match(results[0]?.error ?? '', /answered 404/);
      assert.equal(results[1]?.outcome?.list.entry_count, 24);
      assert.equal(results[1]?.outcome?.list.origin, `${base}/entities.ftm.json`);
      const again = await watchLists(loader, {
        AML_LISTS_URL_OPENSANCTIONS: `${base}/entities.ftm.json`,
        AML_LISTS_RESCREEN_BATCH: 200,
      });
      assert.equal(again[0]?.outcome?.unchanged, true);
    } finally {
      server.close();
    }
  });
});

function t_databaseUrl(): boolean {
  return Boolean(process.env.TEST_DATABASE_URL);
}
