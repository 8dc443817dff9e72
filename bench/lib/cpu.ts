/**
 * Where the CPU went during a measured run, from /proc (Linux): the API workers, our PostgreSQL backends, this
 * process (autocannon) and the whole machine. "Other" is what none of ours used: other engineers' tests on the shared
 * machine, PostgreSQL's background writers, Redis.
 */
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

/** user + system CPU seconds of one process, or null when it is gone. */
function processSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[11] = utime, fields[12] = stime (after the comm field, 0-based from state)
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return null;
  }
}

function machineSeconds(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
    const values = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (values[3] ?? 0) + (values[4] ?? 0);
    const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0);
    return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
  } catch {
    return { busy: 0, total: 0 };
  }
}

export interface CpuSnapshot {
  at: number;
  api: Map<number, number>;
  postgres: Map<number, number>;
  self: number;
  machine: { busy: number; total: number };
}

export function snapshot(apiPids: number[], postgresPids: number[]): CpuSnapshot {
  const read = (pids: number[]) => {
    const map = new Map<number, number>();
    for (const pid of pids) {
      const seconds = processSeconds(pid);
      if (seconds !== null) map.set(pid, seconds);
    }
    return map;
  };
  const usage = process.cpuUsage();
  return {
    at: performance.now(),
    api: read(apiPids),
    postgres: read(postgresPids),
    self: (usage.user + usage.system) / 1e6,
    machine: machineSeconds(),
  };
}

export interface CpuUse {
  seconds: number;
  /** Cores busy on average (1.0 = one core flat out). */
  api: number;
  postgres: number;
  loadgen: number;
  other: number;
  machine: number;
}

export function between(before: CpuSnapshot, after: CpuSnapshot): CpuUse {
  const seconds = (after.at - before.at) / 1000;
  const delta = (a: Map<number, number>, b: Map<number, number>) => {
    let sum = 0;
    for (const [pid, value] of b) {
      const start = a.get(pid);
      if (start !== undefined) sum += value - start;
    }
    return sum;
  };
  const api = delta(before.api, after.api) / seconds;
  const postgres = delta(before.postgres, after.postgres) / seconds;
  const loadgen = (after.self - before.self) / seconds;
  const machine = (after.machine.busy - before.machine.busy) / seconds;
  return {
    seconds,
    api,
    postgres,
    loadgen,
    other: Math.max(0, machine - api - postgres - loadgen),
    machine,
  };
}

export function describeCpu(use: CpuUse | undefined): string {
  if (!use) return '';
  const f = (value: number) => value.toFixed(2);
  return `API ${f(use.api)} · PG ${f(use.postgres)} · loadgen ${f(use.loadgen)} · other ${f(use.other)} (of 2 cores)`;
}
