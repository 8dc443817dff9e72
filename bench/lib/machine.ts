/** What the machine is and how busy it is: the facts printed at the end of every benchmark report. */
import { cpus, loadavg, totalmem } from 'node:os';
import { Redis } from 'ioredis';
import type { AdminConnection } from './admin.ts';
import { f0 } from './format.ts';

export type MachineFacts = Awaited<ReturnType<typeof machineFacts>>;

export async function machineFacts(admin: AdminConnection, redisUrl: string) {
  const version = (await admin.query<{ version: string }>('select version()')).rows[0]!.version;
  const settings = await admin.query<{ name: string; setting: string; unit: string | null }>(
    `select name, setting, unit from pg_settings where name in ('shared_buffers', 'max_connections',
       'synchronous_commit', 'fsync', 'shared_preload_libraries', 'work_mem', 'checkpoint_timeout', 'max_wal_size')`,
  );
  return {
    cpu: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
    memoryGiB: (totalmem() / 1024 ** 3).toFixed(1),
    node: process.version,
    postgres: version,
    settings: settings.rows.map((row) => `${row.name}=${row.setting}${row.unit ?? ''}`).join(', '),
    loadStart: loadavg(),
    roundTrip: await roundTrips(admin, redisUrl),
    ...(await otherActivity(admin)),
  };
}

/** What one round trip costs on this machine: `select 1` over TCP (as the API and pgbench connect) and Redis PING. */
async function roundTrips(admin: AdminConnection, redisUrl: string): Promise<string> {
  const time = async (run: () => Promise<unknown>, count: number) => {
    for (let index = 0; index < 50; index += 1) await run();
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (let index = 0; index < count; index += 1) await run();
    const used = process.cpuUsage(cpu);
    return `${f0(((performance.now() - started) / count) * 1000)} µs wall, ${f0((used.user + used.system) / count)} µs client CPU`;
  };
  const postgres = await time(() => admin.query('select 1'), 1000);
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  const ping = await time(() => redis.ping(), 1000);
  redis.disconnect();
  return `PostgreSQL \`select 1\` ${postgres}; Redis PING ${ping} (sequential, from Node)`;
}

/** Sessions on the shared server that are not the benchmark's: other engineers' tests. */
export async function otherActivity(admin: AdminConnection) {
  const result = await admin.query<{ databases: string; sessions: string }>(
    `select count(distinct datname)::text as databases, count(*)::text as sessions from pg_stat_activity
     where datname is not null and datname not like 'codeforge_bench_%' and pid <> pg_backend_pid()`,
  );
  return {
    otherDatabases: Number(result.rows[0]!.databases),
    otherSessions: Number(result.rows[0]!.sessions),
  };
}
