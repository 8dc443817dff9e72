/** Master-key rotation: data keys re-wrapped under the new key; documents, PII, TOTP and signing keys still open. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sql } from 'drizzle-orm';
import { buildApp } from '../../src/app.ts';
import { parseConfig } from '../../src/config.ts';
import { closeDependencies, openDependencies } from '../../src/platform/dependencies.ts';
import { rewrapAll } from '../../src/rewrap.ts';
import {
  ADMIN_PASSWORD,
  baseDatabaseUrl,
  bearer,
  LogCapture,
  login,
  startTestApp,
  type TestContext,
} from '../helpers/app.ts';
import { needsPostgres } from '../helpers/databases.ts';

// Needs a database a second process can open (PostgreSQL; always in CI): the rotation runs as a separate step.
if (baseDatabaseUrl())
  describe('master-key rotation', () => {
    let t: TestContext;
    let customerId: string;
    before(async () => {
      t = await startTestApp();
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/customer/customer/add',
        headers: bearer(t.adminToken),
        payload: {
          first_name: 'Rota',
          last_name: 'Tion',
          phone: '+254750000001',
          national_id: '77665544',
          national_id_type: 'passport',
          date_of_birth: '1985-01-02',
        },
      });
      customerId = created.json().id;
    });
    after(async () => t.close());

    test('after rewrap-keys the old master key can be retired and everything still opens', async () => {
      const newKey = randomBytes(32).toString('base64');
      const rotatedEnv = {
        ...Object.fromEntries(Object.entries(process.env)),
        DATABASE_URL: t.config.DATABASE_URL,
        REDIS_URL: t.config.REDIS_URL,
        REDIS_KEY_PREFIX: t.config.REDIS_KEY_PREFIX,
        DATA_DIR: t.config.DATA_DIR,
        LOG_LEVEL: 'silent',
        MASTER_KEY: newKey,
        MASTER_KEY_ID: 'k2',
        MASTER_KEYS_PREVIOUS: `k1:${t.config.MASTER_KEY.toString('base64')}`,
      };
      const rotated = await openDependencies(parseConfig(rotatedEnv), { migrate: false, runsWorker: false });
      const counts = await rewrapAll(rotated.database.db, rotated.keys);
      assert.equal(counts['customers.national_id_sealed'], 1);
      assert.equal(counts['customers.date_of_birth_sealed'], 1);
      assert.ok((counts['signing_keys.private_key_wrapped'] ?? 0) >= 1);
      assert.deepEqual(
        Object.values(await rewrapAll(rotated.database.db, rotated.keys)),
        [0, 0, 0, 0, 0],
        'idempotent',
      );
      const stored = (await rotated.database.db.execute(
        sql`select national_id_sealed from customers where id = ${customerId}`,
      )) as unknown as {
        rows: { national_id_sealed: string }[];
      };
      assert.match(JSON.parse(stored.rows[0]!.national_id_sealed).wrappedKey, /^k2\./);
      await closeDependencies(rotated);

      // The old key is gone: only k2 remains, and the API still signs tokens and reads PII.
      const retired = await openDependencies(parseConfig({ ...rotatedEnv, MASTER_KEYS_PREVIOUS: '' }), {
        migrate: false,
        runsWorker: false,
      });
      const { app } = await buildApp(retired, { logStream: new LogCapture() });
      try {
        const token = (await login(app, 'admin', ADMIN_PASSWORD)).access_token;
        const customer = await app.inject({
          method: 'GET',
          url: `/api/v1/customer/customer/${customerId}?include_pii=true`,
          headers: bearer(token),
        });
        assert.equal(customer.statusCode, 200, customer.body);
        assert.deepEqual(
          [customer.json().national_id, customer.json().date_of_birth],
          ['77665544', '1985-01-02'],
        );
      } finally {
        await app.close();
        await closeDependencies(retired);
      }
    });
  });
else test('master-key rotation', { skip: needsPostgres }, () => {});
