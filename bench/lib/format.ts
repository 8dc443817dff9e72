/** Progress lines, number formats and the markdown pieces every benchmark table is made of. */
import { randomInt } from 'node:crypto';
import type { CpuUse } from './cpu.ts';
import type { LoadResult } from './load.ts';

/** When the benchmark started (the clock of the progress lines); `startClock` sets it once the imports are done. */
export let startedAt = Date.now();

export function startClock() {
  startedAt = Date.now();
}

export function log(message: string) {
  const elapsed = Math.round((Date.now() - startedAt) / 1000);
  const stampText = `${String(Math.floor(elapsed / 60)).padStart(2, '0')}:${String(elapsed % 60).padStart(2, '0')}`;
  process.stdout.write(`[${stampText}] ${message}\n`);
}

export const f0 = (value: number) =>
  Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '—';
export const f2 = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : '—');
export const f1 = (value: number) => (Number.isFinite(value) ? value.toFixed(1) : '—');
export const pick = <T>(items: T[]): T => items[randomInt(items.length)]!;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export function errorText(result: Pick<LoadResult, 'errors' | 'errorKinds' | 'note'>): string {
  const kinds = Object.entries(result.errorKinds)
    .sort((a, b) => b[1] - a[1])
    .map(([kind, count]) => `${kind} ×${count}`);
  const text = result.errors === 0 ? '0' : `${result.errors} (${kinds.slice(0, 3).join('; ')})`;
  return result.note ? `${text} — ${result.note}` : text;
}

export const HEADER =
  '| scenario | connections | workers | req/s | reference req/s | ratio | target | p50 ms | p90 ms | p99 ms | errors | ledger-verify |\n' +
  '|---|---|---|---|---|---|---|---|---|---|---|---|';

export function row(cells: (string | number)[]): string {
  return `| ${cells.join(' | ')} |`;
}

export function verdict(ok: boolean): string {
  return ok ? 'met' : '**missed**';
}

export function cpuLines(entries: { label: string; cpu?: CpuUse; ok: number }[]): string {
  const lines = [
    '| run | API cores | PostgreSQL cores | autocannon cores | other (not ours) | API CPU ms/req | PG CPU ms/req |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const entry of entries) {
    const cpu = entry.cpu;
    if (!cpu) continue;
    const perRequest = (cores: number) => f2((cores * cpu.seconds * 1000) / Math.max(1, entry.ok));
    lines.push(
      row([
        entry.label,
        f2(cpu.api),
        f2(cpu.postgres),
        f2(cpu.loadgen),
        f2(cpu.other),
        perRequest(cpu.api),
        perRequest(cpu.postgres),
      ]),
    );
  }
  return lines.join('\n');
}
