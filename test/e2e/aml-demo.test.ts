/**
 * The AML demo dataset (`npm run cli -- aml-demo`) against a test app on real PostgreSQL: the same function the CLI
 * runs, through the app's routes (`app.inject` in place of HTTP), with the consumers dispatched as the worker would.
 * Every default typology and the default realtime rules (one alert, one review) raise at least one alert, each
 * grouped into a case; the sanctioned and the PEP beneficiaries are screened into alerts; the review holds the
 * payment for an analyst; the dataset's dormancy moved only AML's own facts, and the CTR threshold its structuring
 * step lowered is back as it was.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DemoClient, type DemoTransport } from '../../src/modules/aml/aml.demo.http.ts';
import { demoAreaRoutes } from '../../src/modules/aml/aml.demo.routes.ts';
import { formatTally } from '../../src/modules/aml/aml.demo.tally.ts';
import { type DemoResult, runAmlDemo } from '../../src/modules/aml/aml.demo.ts';
import { SCENARIO_CODES } from '../../src/modules/aml/aml.scenarios.rules.ts';
import { bearer, startTestApp, type TestContext } from '../helpers/app.ts';

const LISTS = 'data/aml/lists';
const FILES = {
  un: { file: 'un-consolidated.xml', contentType: 'application/xml' },
  ofac: { file: 'ofac-sdn.csv', contentType: 'text/csv' },
  opensanctions: { file: 'opensanctions.jsonl', contentType: 'application/x-ndjson' },
} as const;

// On PostgreSQL, and on the embedded database (PGlite: one connection, no Redis) as the quick start runs it, where
// code reading outside its transaction (a handler through another module's prepared read, pg-boss looking a queue up
// while a job is enqueued) once waited for itself and stopped the whole API partway through the demo.
for (const embedded of [false, true])
  describe(embedded ? 'the AML demo dataset on the embedded database' : 'the AML demo dataset', () => {
    let t: TestContext;
    let result: DemoResult;
    const lines: string[] = [];

    before(async () => {
      t = embedded
        ? await startTestApp({ REDIS_URL: undefined }, { startJobs: true, embedded: true })
        : await startTestApp({}, { startJobs: true });
      // Jobs consumed as the worker consumes them: the SMS deliveries (one-time codes) and the screening jobs.
      await t.deps.jobs.work();
      const send: DemoTransport = async (request) => {
        const response = await t.app.inject({
          method: request.method,
          url: request.path,
          headers: { ...request.headers, ...(request.token ? bearer(request.token) : {}) },
          ...(request.body === undefined
            ? {}
            : { payload: request.body as string | Record<string, unknown> }),
        });
        let body: unknown = response.body;
        try {
          body = response.body.length > 0 ? JSON.parse(response.body) : null;
        } catch {
          // an XML download stays text
        }
        return { status: response.statusCode, body };
      };
      const events = t.application.system.events;
      // What the in-process worker does: hand the outbox out and let every consumer take its share.
      const settle = async () => {
        while ((await events.handOut()) > 0) {}
        for (const { consumer } of events.subscriptions()) while ((await events.dispatch(consumer)) > 0) {}
      };
      result = await runAmlDemo({
        client: new DemoClient(send, t.adminToken, (ms) => sleep(ms)),
        settle,
        listFile: async (source) => ({
          body: await readFile(`${LISTS}/${FILES[source].file}`, 'utf8'),
          contentType: FILES[source].contentType,
        }),
        wait: (ms) => sleep(ms),
        log: (line) => lines.push(line),
        timeoutMs: 60_000,
      });
    });
    after(async () => t?.close());

    test('every default typology and realtime rule raised an alert, grouped into a case', () => {
      const table = formatTally(result.tally);
      assert.deepEqual(
        result.missing.map((row) => `${row.pattern} (${row.what})`),
        [],
        `${table}\n${lines.join('\n')}`,
      );
      const tripped = new Set(result.tally.filter((row) => row.alerts > 0).map((row) => row.pattern));
      for (const code of SCENARIO_CODES) assert.ok(tripped.has(code), `${code} raised nothing\n${table}`);
      for (const rule of ['rt_many_counterparties_24h', 'rt_velocity_1h', 'screening'])
        assert.ok(tripped.has(rule), `${rule} raised nothing\n${table}`);
      for (const row of result.tally) assert.ok(row.cases.length > 0, `${row.pattern} has no case\n${table}`);
      assert.equal(result.tally.filter((row) => row.pattern === 'screening' && row.alerts > 0).length, 2);
    });

    test('the review holds the payment for an analyst; the demo says what it backdated and nothing more', async () => {
      const held = await t.app.inject({
        method: 'GET',
        url: '/api/v1/aml/held',
        headers: bearer(t.adminToken),
      });
      assert.equal(held.statusCode, 200, held.body);
      const fired = held
        .json()
        .items.flatMap((item: { fired: { code: string }[] }) => item.fired.map((rule) => rule.code));
      assert.ok(fired.includes('rt_velocity_1h'), held.body);
      // The CTR threshold the structuring step lowered is back to what it was (the default here).
      const threshold = await t.app.inject({
        method: 'GET',
        url: '/api/v1/admin/config/aml.ctr_threshold_minor',
        headers: bearer(t.adminToken),
      });
      assert.equal(threshold.statusCode, 200, threshold.body);
      assert.equal(threshold.json().overridden, false, threshold.body);
      assert.ok(
        lines.some((line) => line.includes('aml.ctr_threshold_minor put back')),
        lines.join('\n'),
      );
      const aged = lines.filter((line) => line.includes('aml_payment_facts'));
      assert.equal(aged.length, 1, lines.join('\n'));
      assert.match(
        aged[0]!,
        /moved [0-9]+ of AML's own payment facts .* 200 days back \(nothing else is backdated\)/,
      );
    });

    test('the dormancy route needs a staff token and a number of days from 1', async () => {
      const anonymous = await t.app.inject({
        method: 'POST',
        url: '/api/v1/aml/demo/age-facts',
        payload: { customer_id: result.tally[0]!.subject, days: 10 },
      });
      assert.equal(anonymous.statusCode, 401, anonymous.body);
      const bad = await t.app.inject({
        method: 'POST',
        url: '/api/v1/aml/demo/age-facts',
        headers: bearer(t.adminToken),
        payload: { customer_id: result.tally[0]!.subject, days: 0 },
      });
      assert.equal(bad.statusCode, 422, bad.body);
    });

    test('with PRODUCTION=true the dormancy route is not mounted', () => {
      const context = (production: boolean) =>
        ({
          deps: { ...t.deps, config: { ...t.deps.config, PRODUCTION: production } },
        }) as unknown as Parameters<typeof demoAreaRoutes>[0];
      assert.equal(demoAreaRoutes(context(true)).length, 0);
      assert.equal(demoAreaRoutes(context(false)).length, 1);
    });
  });
