/**
 * The seed of a reliability run. Every run prints `RELIABILITY_SEED=<n>`; setting that variable repeats the run: the
 * same operations in the same order per client, the same fault schedule, the same proxy choices. Each consumer
 * (workload, faults, proxies) draws from its own stream derived from the seed, so adding draws to one never shifts
 * another.
 */
import { createHash } from 'node:crypto';

/** True when RELIABILITY_LONG=1 (soak mode). */
export const LONG = process.env.RELIABILITY_LONG === '1' || process.env.RELIABILITY_LONG === 'true';

export function runSeed(): number {
  const raw = process.env.RELIABILITY_SEED;
  if (raw !== undefined && raw !== '') {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
      throw new Error(`RELIABILITY_SEED must be an integer 0..4294967295, got "${raw}"`);
    return value;
  }
  return Math.floor(Math.random() * 1_000_000_000);
}

/** Prints the seed in the form that repeats the run (and says how). */
export function announceSeed(suite: string, seed: number): void {
  process.stdout.write(
    `# ${suite}: RELIABILITY_SEED=${seed}${LONG ? ' RELIABILITY_LONG=1' : ''} (set it to repeat this run)\n`,
  );
}

/** mulberry32 over a 32-bit state. */
export class Prng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A sub-stream named `label`: independent of every other label, fixed by the seed. */
  static derive(seed: number, label: string): Prng {
    const digest = createHash('sha256').update(`${seed}:${label}`).digest();
    return new Prng(digest.readUInt32LE(0));
  }

  /** [0, 1) */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let value = this.#state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max] (inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  shuffle<T>(items: T[]): T[] {
    for (let index = items.length - 1; index > 0; index -= 1) {
      const other = Math.floor(this.next() * (index + 1));
      [items[index], items[other]] = [items[other]!, items[index]!];
    }
    return items;
  }
}

/** A short digest of anything JSON-serialisable (plans, schedules): equal digests, equal runs. */
export function digestOf(value: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(value, (_key, item) => (typeof item === 'bigint' ? item.toString() : item)))
    .digest('hex')
    .slice(0, 16);
}
