/**
 * Sliding-window aggregates for the real-time rules, kept incrementally in Redis (PostgreSQL's `aml_payment_facts`
 * is the source a rebuild replays: aml.aggregates.rebuild.ts).
 *
 * Layout (every key under the deployment's REDIS_KEY_PREFIX):
 * - `aml:agg:<subject>:<id>:m5:<bucket>`: a hash { n: count, s:<CUR>: sum in minor units } per 5-minute bucket, and
 *   `…:m5:<bucket>:d` a small set of the distinct other parties; the same per hour (`h1`). Subjects: customer,
 *   wallet, device, agent, counterparty (whose "other parties" are its payers: fan-in).
 * - `aml:cp:<customer>`: every counterparty wallet the customer ever paid (for `counterparty_new`), 400-day TTL
 *   refreshed on each payment.
 * - Windows read whole buckets: 1h = the last 12 five-minute buckets, 24h = 24 hourly, 7d = 168 hourly. The window is
 *   therefore between W − bucket and W long (up to 5 minutes short for 1h, an hour for 24h/7d): the price of O(1)
 *   writes. Buckets expire (PEXPIREAT) one longest window after they end: 1h05 for m5, 7d+1h for h1.
 *
 * Cost: a decision reads with ONE EVALSHA (HMGET per bucket of each window a current rule names, SUNION of the
 * bucket sets only for distinct measures, one SISMEMBER): at most 12 + 24 + 168 = 204 HMGETs per subject, all inside
 * Redis, one network round trip (~0.1–0.3 ms). Recording a payment is ONE EVALSHA after it commits: for each of its
 * subjects (≤ 5) 2 HINCRBY + 1 SADD + 2 PEXPIREAT per series (2 series) ≈ 50 commands. Memory per active subject per
 * day ≈ 288 + 24 small hashes and sets (≈ 100 B each): ~30 KB per active customer-day, expiring on its own. Doing
 * the same in PostgreSQL alone would cost an index range scan over up to 7 days of the customer's facts per rule on
 * the hot path (plus the write amplification of counter rows under the posting's locks); Redis keeps the decision
 * free of database round trips.
 *
 * Without Redis (the embedded single-node mode, REDIS_URL unset) the same buckets live in process memory
 * (MemoryAggregates): correct for one node, rebuilt from PostgreSQL on demand.
 */
import type { Redis } from 'ioredis';
import { aggregateKey, type PaymentFacts, subjectId, type WindowValues } from './aml.rules.evaluate.ts';
import type { AggregateSubject, AggregateWindow } from './aml.rules.ts';

export const SERIES = { m5: 300_000, h1: 3_600_000 } as const;
type Series = keyof typeof SERIES;
const SERIES_OF: Record<AggregateWindow, { series: Series; buckets: number }> = {
  '1h': { series: 'm5', buckets: 12 },
  '24h': { series: 'h1', buckets: 24 },
  '7d': { series: 'h1', buckets: 168 },
};
/** How long a bucket is kept after it ends: the longest window that reads its series. */
const KEEP_MS: Record<Series, number> = { m5: 3_600_000, h1: 604_800_000 };
const COUNTERPARTIES_TTL_MS = 400 * 86_400_000;

export interface AggregateQuery {
  /** `distinct`: a rule counts distinct counterparties over it (only then are the bucket sets unioned). */
  windows: readonly { subject: AggregateSubject; window: AggregateWindow; distinct: boolean }[];
  counterpartyNew: boolean;
}

export interface AggregateRead {
  /** Keyed `subject:window`, INCLUDING the current payment. */
  values: Map<string, WindowValues>;
  /** Null when not asked, or when the payment has no customer or no counterparty wallet. */
  counterpartyNew: boolean | null;
}

export interface AggregateStore {
  readonly kind: 'redis' | 'memory';
  /** Everything a decision needs, in one round trip. Throws when the store is unavailable. */
  read(payment: PaymentFacts, query: AggregateQuery): Promise<AggregateRead>;
  /** Counts a payment (after it committed or was held); `subjects` limits it (a per-customer rebuild). */
  add(payment: PaymentFacts, subjects?: readonly AggregateSubject[]): Promise<void>;
  /** Adds counterparty wallets the customer paid (a rebuild of `counterparty_new`). */
  remember(customerId: string, counterparties: readonly string[]): Promise<void>;
  /** Forgets the aggregates (all, or one customer's subject and counterparties) before a rebuild. */
  clear(customerId?: string): Promise<void>;
}

const ALL_SUBJECTS: readonly AggregateSubject[] = ['customer', 'wallet', 'device', 'agent', 'counterparty'];

/** The other party a subject counts as distinct: a counterparty's payers, everyone else's counterparties. */
function otherOf(payment: PaymentFacts, subject: AggregateSubject): string {
  return (subject === 'counterparty' ? (payment.customerId ?? payment.walletId) : payment.counterparty) ?? '';
}

export function bucketsOf(at: number, window: AggregateWindow): { series: Series; indexes: number[] } {
  const { series, buckets } = SERIES_OF[window];
  const last = Math.floor(at / SERIES[series]);
  return { series, indexes: Array.from({ length: buckets }, (_, offset) => last - offset) };
}

const base = (subject: AggregateSubject, id: string) => `aml:agg:${subject}:${id}`;

const READ_SCRIPT = `
local nq = tonumber(ARGV[1]) local field = ARGV[2] local member = ARGV[3]
local out = {} local k = 1 local a = 4
for q = 1, nq do
  local n = tonumber(ARGV[a]) local d = ARGV[a + 1] local other = ARGV[a + 2] a = a + 3
  local count, sum = 0, 0
  for b = 1, n do
    local v = redis.call('HMGET', KEYS[k], 'n', field)
    if v[1] then count = count + tonumber(v[1]) end
    if v[2] then sum = sum + tonumber(v[2]) end
    k = k + 1
  end
  local distinct = 0
  if d == '1' then
    local sets = {}
    for b = 1, n do sets[b] = KEYS[k] k = k + 1 end
    local union = redis.call('SUNION', unpack(sets))
    distinct = #union
    if other ~= '' then
      local seen = false
      for _, m in ipairs(union) do if m == other then seen = true break end end
      if not seen then distinct = distinct + 1 end
    end
  end
  out[#out + 1] = count out[#out + 1] = string.format('%.0f', sum) out[#out + 1] = distinct
end
if member ~= '' then out[#out + 1] = redis.call('SISMEMBER', KEYS[k], member) else out[#out + 1] = -1 end
return out`;

const ADD_SCRIPT = `
local ns = tonumber(ARGV[1]) local amount = ARGV[2] local field = ARGV[3]
local k = 1
for s = 1, ns do
  local other = ARGV[7 + s]
  for series = 1, 2 do
    local expire = ARGV[3 + series]
    redis.call('HINCRBY', KEYS[k], 'n', 1) redis.call('HINCRBY', KEYS[k], field, amount)
    redis.call('PEXPIREAT', KEYS[k], expire)
    if other ~= '' then redis.call('SADD', KEYS[k + 1], other) redis.call('PEXPIREAT', KEYS[k + 1], expire) end
    k = k + 2
  end
end
if ARGV[6] ~= '' then redis.call('SADD', KEYS[k], ARGV[6]) redis.call('PEXPIRE', KEYS[k], ARGV[7]) end
return 1`;

type ScriptedRedis = Redis & {
  amlAggRead(...args: (string | number)[]): Promise<(number | string)[]>;
  amlAggAdd(...args: (string | number)[]): Promise<number>;
};

/** The Redis aggregates: one EVALSHA per read and per add (ioredis' defineCommand sends EVALSHA, EVAL on NOSCRIPT). */
export class RedisAggregates implements AggregateStore {
  readonly kind = 'redis' as const;
  readonly #redis: ScriptedRedis;
  readonly #prefix: string;

  constructor(redis: Redis, prefix: string) {
    redis.defineCommand('amlAggRead', { lua: READ_SCRIPT });
    redis.defineCommand('amlAggAdd', { lua: ADD_SCRIPT });
    this.#redis = redis as ScriptedRedis;
    this.#prefix = prefix;
  }

  async read(payment: PaymentFacts, query: AggregateQuery): Promise<AggregateRead> {
    const keys: string[] = [];
    const args: (string | number)[] = [];
    const asked: { key: string; subject: AggregateSubject }[] = [];
    for (const { subject, window, distinct } of query.windows) {
      const id = subjectId(payment, subject);
      if (id === null) continue;
      const { series, indexes } = bucketsOf(payment.at, window);
      const prefix = `${this.#prefix}${base(subject, id)}:${series}:`;
      for (const index of indexes) keys.push(`${prefix}${index}`);
      if (distinct) for (const index of indexes) keys.push(`${prefix}${index}:d`);
      args.push(indexes.length, distinct ? '1' : '0', otherOf(payment, subject));
      asked.push({ key: aggregateKey(subject, window), subject });
    }
    const member =
      query.counterpartyNew && payment.customerId && payment.counterparty ? payment.counterparty : '';
    keys.push(`${this.#prefix}aml:cp:${payment.customerId ?? 'none'}`);
    const reply = await this.#redis.amlAggRead(
      keys.length,
      ...keys,
      asked.length,
      `s:${payment.currency}`,
      member,
      ...args,
    );
    const values = new Map<string, WindowValues>();
    asked.forEach(({ key }, index) => {
      values.set(key, {
        count: Number(reply[index * 3]) + 1,
        sum: BigInt(reply[index * 3 + 1] as string) + payment.amount,
        distinct: Number(reply[index * 3 + 2]),
      });
    });
    const seen = Number(reply[asked.length * 3]);
    return { values, counterpartyNew: seen === -1 ? null : seen === 0 };
  }

  async add(payment: PaymentFacts, subjects: readonly AggregateSubject[] = ALL_SUBJECTS): Promise<void> {
    const keys: string[] = [];
    const others: string[] = [];
    for (const subject of subjects) {
      const id = subjectId(payment, subject);
      if (id === null) continue;
      for (const series of ['m5', 'h1'] as const) {
        const key = `${this.#prefix}${base(subject, id)}:${series}:${Math.floor(payment.at / SERIES[series])}`;
        keys.push(key, `${key}:d`);
      }
      others.push(otherOf(payment, subject));
    }
    const member = subjects.includes('customer') && payment.customerId ? (payment.counterparty ?? '') : '';
    keys.push(`${this.#prefix}aml:cp:${payment.customerId ?? 'none'}`);
    await this.#redis.amlAggAdd(
      keys.length,
      ...keys,
      others.length,
      payment.amount.toString(),
      `s:${payment.currency}`,
      expiry(payment.at, 'm5'),
      expiry(payment.at, 'h1'),
      member,
      COUNTERPARTIES_TTL_MS,
      ...others,
    );
  }

  async remember(customerId: string, counterparties: readonly string[]): Promise<void> {
    if (counterparties.length === 0) return;
    const key = `${this.#prefix}aml:cp:${customerId}`;
    await this.#redis
      .multi()
      .sadd(key, ...counterparties)
      .pexpire(key, COUNTERPARTIES_TTL_MS)
      .exec();
  }

  async clear(customerId?: string): Promise<void> {
    const patterns = customerId
      ? [`${this.#prefix}${base('customer', customerId)}:*`, `${this.#prefix}aml:cp:${customerId}`]
      : [`${this.#prefix}aml:agg:*`, `${this.#prefix}aml:cp:*`];
    for (const match of patterns) {
      let cursor = '0';
      do {
        const [next, found] = await this.#redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
        cursor = next;
        if (found.length > 0) await this.#redis.unlink(...found);
      } while (cursor !== '0');
    }
  }
}

function expiry(at: number, series: Series): number {
  const size = SERIES[series];
  return (Math.floor(at / size) + 1) * size + KEEP_MS[series];
}

interface MemoryBucket {
  n: number;
  sums: Map<string, bigint>;
  others: Set<string>;
  expiresAt: number;
}

/** The same buckets in process memory: the embedded single-node mode (no Redis). */
export class MemoryAggregates implements AggregateStore {
  readonly kind = 'memory' as const;
  readonly #buckets = new Map<string, MemoryBucket>();
  readonly #counterparties = new Map<string, Set<string>>();

  async read(payment: PaymentFacts, query: AggregateQuery): Promise<AggregateRead> {
    const values = new Map<string, WindowValues>();
    for (const { subject, window } of query.windows) {
      const id = subjectId(payment, subject);
      if (id === null) continue;
      const { series, indexes } = bucketsOf(payment.at, window);
      let count = 1;
      let sum = payment.amount;
      const others = new Set<string>();
      for (const index of indexes) {
        const bucket = this.#buckets.get(`${base(subject, id)}:${series}:${index}`);
        if (!bucket) continue;
        count += bucket.n;
        sum += bucket.sums.get(payment.currency) ?? 0n;
        for (const other of bucket.others) others.add(other);
      }
      const other = otherOf(payment, subject);
      if (other !== '') others.add(other);
      values.set(aggregateKey(subject, window), { count, sum, distinct: others.size });
    }
    const counterpartyNew =
      query.counterpartyNew && payment.customerId && payment.counterparty
        ? !(this.#counterparties.get(payment.customerId)?.has(payment.counterparty) ?? false)
        : null;
    return { values, counterpartyNew };
  }

  async add(payment: PaymentFacts, subjects: readonly AggregateSubject[] = ALL_SUBJECTS): Promise<void> {
    const now = Date.now();
    for (const [key, bucket] of this.#buckets) if (bucket.expiresAt < now) this.#buckets.delete(key);
    for (const subject of subjects) {
      const id = subjectId(payment, subject);
      if (id === null) continue;
      const other = otherOf(payment, subject);
      for (const series of ['m5', 'h1'] as const) {
        const key = `${base(subject, id)}:${series}:${Math.floor(payment.at / SERIES[series])}`;
        let bucket = this.#buckets.get(key);
        if (!bucket) {
          bucket = { n: 0, sums: new Map(), others: new Set(), expiresAt: expiry(payment.at, series) };
          this.#buckets.set(key, bucket);
        }
        bucket.n += 1;
        bucket.sums.set(payment.currency, (bucket.sums.get(payment.currency) ?? 0n) + payment.amount);
        if (other !== '') bucket.others.add(other);
      }
    }
    if (subjects.includes('customer') && payment.customerId && payment.counterparty) {
      const known = this.#counterparties.get(payment.customerId) ?? new Set<string>();
      known.add(payment.counterparty);
      this.#counterparties.set(payment.customerId, known);
    }
  }

  async remember(customerId: string, counterparties: readonly string[]): Promise<void> {
    const known = this.#counterparties.get(customerId) ?? new Set<string>();
    for (const counterparty of counterparties) known.add(counterparty);
    this.#counterparties.set(customerId, known);
  }

  async clear(customerId?: string): Promise<void> {
    if (!customerId) {
      this.#buckets.clear();
      this.#counterparties.clear();
      return;
    }
    const prefix = `${base('customer', customerId)}:`;
    for (const key of this.#buckets.keys()) if (key.startsWith(prefix)) this.#buckets.delete(key);
    this.#counterparties.delete(customerId);
  }
}
