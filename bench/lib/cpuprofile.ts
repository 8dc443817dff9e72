/**
 * Summarises a V8 `.cpuprofile` (written by `node --cpu-prof`): self time per function and per origin (the app's own
 * files, each npm package, Node internals, GC, idle).
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  startTime: number;
  endTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  busyMs: number;
  functions: { name: string; origin: string; ms: number; share: number }[];
  origins: { origin: string; ms: number; share: number }[];
}

function originOf(url: string, name: string): string {
  if (!url) {
    if (name === '(garbage collector)') return 'GC';
    if (name === '(idle)') return 'idle';
    if (name === '(program)') return 'V8/native (program)';
    return `native ${name}`;
  }
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (modules) return `npm ${modules[1]}`;
  if (url.startsWith('node:')) return 'node internals';
  const app = /\/(src|bench)\/(.+)$/.exec(url);
  if (app) return `app ${app[1]}/${app[2]}`;
  return url;
}

/**
 * `window` keeps only the samples taken between `startBeforeEndMs` and `endBeforeEndMs` before the profile ended
 * (the process exit): the measured load, without start-up (module loading, schema compilation) or shutdown.
 */
export function summariseProfile(
  file: string,
  top = 20,
  window?: { startBeforeEndMs: number; endBeforeEndMs: number },
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  const from = window ? profile.endTime - window.startBeforeEndMs * 1000 : -Infinity;
  const to = window ? profile.endTime - window.endBeforeEndMs * 1000 : Infinity;
  let at = profile.startTime;
  for (let index = 0; index < profile.samples.length; index += 1) {
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if (at < from || at > to) continue;
    const id = profile.samples[index]!;
    self.set(id, (self.get(id) ?? 0) + delta / 1000);
  }
  const functions = new Map<string, { name: string; origin: string; ms: number }>();
  const origins = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  for (const [id, ms] of self) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = functionName || '(anonymous)';
    const origin = originOf(url, name);
    totalMs += ms;
    if (origin === 'idle') idleMs += ms;
    const short = url ? url.replace(/^.*\/(node_modules|src|bench)\//, '$1/') : '';
    const key = `${name} ${short}:${lineNumber + 1}`;
    const entry = functions.get(key) ?? {
      name: `${name} (${short || 'native'}:${lineNumber + 1})`,
      origin,
      ms: 0,
    };
    entry.ms += ms;
    functions.set(key, entry);
    origins.set(origin, (origins.get(origin) ?? 0) + ms);
  }
  const busyMs = totalMs - idleMs;
  return {
    totalMs,
    busyMs,
    functions: [...functions.values()]
      .filter((entry) => entry.origin !== 'idle')
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map((entry) => ({ ...entry, share: entry.ms / busyMs })),
    origins: [...origins.entries()]
      .filter(([origin]) => origin !== 'idle')
      .map(([origin, ms]) => ({ origin, ms, share: ms / busyMs }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top),
  };
}
