/**
 * One process at a time on an embedded (PGlite) data directory: while `npm start` runs on DATA_DIR, the CLI refuses
 * to open it and says who holds it; once the API stops (or dies, leaving a stale lock) the CLI works. Real
 * processes: the API started as `node src/main.ts`, the CLI as `node src/cli.ts`, on a fresh directory.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  DataDirLockedError,
  LOCK_FILE,
  lockDataDir,
  processAlive,
} from '../../src/platform/data-dir-lock.ts';
import { freePort } from '../reliability/harness/api-process.ts';

const ROOT = join(import.meta.dirname, '..', '..');

/** The environment of a quick start: no PostgreSQL, no Redis, nothing but the data directory and a port. */
function quickStartEnv(dataDir: string, port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  return {
    ...env,
    DATA_DIR: dataDir,
    LOCAL_PORT: String(port),
    LOG_LEVEL: 'warn',
    ADMIN_PASSWORD: 'lock test passphrase 1',
  };
}

function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['src/cli.ts', ...args], { cwd: ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A pid that certainly belongs to no running process: a child that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.on('close', resolve));
  assert.ok(child.pid && !processAlive(child.pid));
  return child.pid;
}

describe('the embedded data directory lock', () => {
  const directories: string[] = [];
  const children: ChildProcess[] = [];
  const freshDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'cf-lock-'));
    directories.push(dir);
    return dir;
  };
  after(() => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const dir of directories) rmSync(dir, { recursive: true, force: true });
  });

  test('a live holder refuses a second one with who holds it; release frees it; a dead holder is stale', async () => {
    const dir = freshDir();
    const release = lockDataDir(dir, 'the API');
    const owner = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'));
    assert.deepEqual([owner.pid, owner.holder], [process.pid, 'the API']);
    assert.throws(
      () => lockDataDir(dir, 'the CLI (migrate)'),
      (error: unknown) =>
        error instanceof DataDirLockedError &&
        error.message.includes(`in use by the API (pid ${process.pid}`) &&
        error.message.includes(join(dir, LOCK_FILE)),
    );
    release();
    assert.equal(existsSync(join(dir, LOCK_FILE)), false, 'released: the file is gone');
    lockDataDir(dir, 'the CLI (seed)')();

    // A holder that died without releasing (kill -9, a crash) left its lock behind: it is taken over.
    const pid = await deadPid();
    const stale = { pid, hostname: hostname(), holder: 'the API', started_at: new Date().toISOString() };
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify(stale));
    const takeOver = lockDataDir(dir, 'the CLI (migrate)');
    assert.equal(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid, process.pid);
    takeOver();
    // One being written (empty and fresh) is not stale yet.
    writeFileSync(join(dir, LOCK_FILE), '');
    assert.throws(() => lockDataDir(dir, 'the CLI (migrate)'), DataDirLockedError);
  });

  test('the CLI refuses the directory of a running API with a clear message, and works once it stops', async () => {
    const dir = freshDir();
    const port = await freePort();
    const env = quickStartEnv(dir, port);
    const api = spawn(process.execPath, ['src/main.ts'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(api);
    let output = '';
    api.stdout!.on('data', (chunk) => {
      output += chunk;
    });
    api.stderr!.on('data', (chunk) => {
      output += chunk;
    });
    // Listening means migrated, seeded and serving.
    const deadline = Date.now() + 180_000;
    for (;;) {
      const health = await fetch(`http://127.0.0.1:${port}/health/live`).catch(() => null);
      if (health?.ok) break;
      if (api.exitCode !== null || Date.now() > deadline) assert.fail(`the API did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }

    const refused = await runCli(['ledger-verify'], env);
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    assert.match(refused.stderr, new RegExp(`in use by the API \\(pid ${api.pid} `));
    assert.match(refused.stderr, /stop it first/);
    assert.doesNotMatch(refused.stdout, /ledger verified/);

    // A second API on the same directory is refused the same way.
    const second = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['src/main.ts'], { cwd: ROOT, env: { ...env, LOCAL_PORT: '0' } });
      let stderr = '';
      child.stderr.on('data', (chunk) => {
        stderr += chunk;
      });
      child.on('close', (code) => resolve({ code, stderr }));
    });
    assert.equal(second.code, 1);
    assert.match(second.stderr, /in use by the API/);

    api.kill('SIGTERM');
    await new Promise((resolve) => api.once('close', resolve));
    assert.equal(existsSync(join(dir, LOCK_FILE)), false, 'a clean shutdown releases the lock');
    const verified = await runCli(['ledger-verify'], env);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.match(verified.stdout, /ledger verified/);
    assert.equal(existsSync(join(dir, LOCK_FILE)), false, 'the CLI releases it too');
  });
});
