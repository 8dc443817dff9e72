/**
 * One process at a time on an embedded (PGlite) data directory. PGlite has no server: two processes opening the same
 * directory each believe they own it and corrupt it. The API holds `<DATA_DIR>/pglite.lock` while it runs, and the
 * CLI takes the same lock before opening the database, so `npm run cli -- migrate` next to a running `npm start`
 * stops with a clear message instead. A lock whose process is gone (killed, crashed) is stale and taken over.
 */
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

export const LOCK_FILE = 'pglite.lock';

interface LockOwner {
  pid: number;
  hostname: string;
  holder: string;
  started_at: string;
}

export class DataDirLockedError extends Error {
  readonly owner: LockOwner;
  constructor(lockPath: string, dataDir: string, owner: LockOwner) {
    super(
      `The embedded database in ${dataDir} is in use by ${owner.holder} (pid ${owner.pid} on ${owner.hostname}, ` +
        `since ${owner.started_at}). PGlite allows one process at a time: stop it first (Ctrl-C or kill ${owner.pid}), ` +
        `or point DATABASE_URL at PostgreSQL to run the API and the CLI side by side. If no such process is ` +
        `running, delete ${lockPath}.`,
    );
    this.name = 'DataDirLockedError';
    this.owner = owner;
  }
}

/** Whether a process with this id runs on this machine (EPERM: it does, as another user). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A lock file without a readable owner younger than this may be one being written. */
const FRESH_MS = 10_000;

function modifiedAt(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

function readOwner(path: string): LockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    if (typeof owner.pid !== 'number') return null;
    return {
      pid: owner.pid,
      hostname: String(owner.hostname ?? 'unknown host'),
      holder: String(owner.holder ?? 'another process'),
      started_at: String(owner.started_at ?? 'an unknown time'),
    };
  } catch {
    // Unreadable or half-written (a process killed while writing it): nobody can be shown to hold it.
    return null;
  }
}

/**
 * Takes the lock of `dataDir` for `holder` (e.g. "the API", "the CLI (migrate)"); returns its release. Throws
 * DataDirLockedError while a live process holds it. A lock from another machine (a shared volume) is never taken over:
 * its process cannot be checked from here.
 */
export function lockDataDir(dataDir: string, holder: string): () => void {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, LOCK_FILE);
  const owner: LockOwner = {
    pid: process.pid,
    hostname: hostname(),
    holder,
    started_at: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 3; attempt += 1) {
    let descriptor: number;
    try {
      descriptor = openSync(path, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const current = readOwner(path);
      if (current && (current.hostname !== owner.hostname || processAlive(current.pid)))
        throw new DataDirLockedError(path, dataDir, current);
      // Empty or unreadable: a process may be between creating the file and writing its id; only an old one is stale.
      if (!current && Date.now() - modifiedAt(path) < FRESH_MS)
        throw new DataDirLockedError(path, dataDir, {
          pid: 0,
          hostname: 'this host',
          holder: 'a process starting up',
          started_at: 'just now',
        });
      // Stale: its process is gone. Removed, then created again exclusively, so of two processes taking over
      // the same stale lock only one wins.
      try {
        unlinkSync(path);
      } catch (unlinkError) {
        if ((unlinkError as NodeJS.ErrnoException).code !== 'ENOENT') throw unlinkError;
      }
      continue;
    }
    try {
      writeSync(descriptor, `${JSON.stringify(owner)}\n`);
    } finally {
      closeSync(descriptor);
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      process.removeListener('exit', release);
      // Only our own lock: never one another process took over meanwhile.
      if (readOwner(path)?.pid === process.pid)
        try {
          unlinkSync(path);
        } catch {}
    };
    // Released however the process ends normally (process.exit included); a crash leaves a stale lock.
    process.on('exit', release);
    return release;
  }
  const current = readOwner(path);
  throw new DataDirLockedError(
    path,
    dataDir,
    current ?? { pid: 0, hostname: 'unknown', holder: 'another process', started_at: 'now' },
  );
}
