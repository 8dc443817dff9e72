/**
 * Crash points for the reliability tests: `CRASH_POINTS=name:n,other:m` makes the process SIGKILL itself the n-th
 * time it passes `crashPoint('name')`, the way a power cut or the OOM killer would (no cleanup, no finally blocks).
 * Unset (always in production: the config refuses it there) this is a map lookup that finds nothing.
 */
const remaining = new Map<string, number>();
let loaded = false;

function load(): void {
  loaded = true;
  for (const entry of (process.env.CRASH_POINTS ?? '').split(',')) {
    const [name, count] = entry.trim().split(':');
    if (name) remaining.set(name, Math.max(1, Number(count) || 1));
  }
}

export function crashPoint(name: string): void {
  if (!loaded) load();
  const left = remaining.get(name);
  if (left === undefined) return;
  if (left > 1) {
    remaining.set(name, left - 1);
    return;
  }
  process.kill(process.pid, 'SIGKILL');
}
