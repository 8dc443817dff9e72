/**
 * Runs the API (`src/main.ts`, unchanged) as a node:cluster of BENCH_WORKERS processes sharing one port (the primary
 * accepts connections and hands them round-robin to the workers). Used by `bench/run.ts` for the "1 worker" and
 * "2 workers" rows. The primary sends `{type:'ready', pids}` over IPC (or prints `BENCH_READY <pids>` when run by
 * hand) once every worker listens; on SIGTERM it stops the workers (each shuts down gracefully, so `--cpu-prof`
 * profiles are written) and exits.
 *
 *   BENCH_WORKERS=2 LOCAL_PORT=8123 DATABASE_URL=… REDIS_URL=… node bench/cluster.ts
 *   BENCH_WORKER_EXEC_ARGV='["--cpu-prof","--cpu-prof-dir=/tmp/prof"]' adds flags to the workers only.
 */
import cluster, { type Worker } from 'node:cluster';
import { join } from 'node:path';

const count = Number(process.env.BENCH_WORKERS ?? 2);
const extra = JSON.parse(process.env.BENCH_WORKER_EXEC_ARGV ?? '[]') as string[];

cluster.setupPrimary({
  exec: join(import.meta.dirname, '..', 'src', 'main.ts'),
  execArgv: [...process.execArgv, ...extra],
});

const workers: Worker[] = [];
let listening = 0;
let stopping = false;
let exited = 0;

// Workers start one after the other: two first starts racing on pg-boss's queue creation is not what is measured.
cluster.on('listening', () => {
  listening += 1;
  if (listening < count) {
    workers.push(cluster.fork());
    return;
  }
  const pids = workers.map((worker) => worker.process.pid ?? 0);
  if (process.send) process.send({ type: 'ready', pids });
  else process.stdout.write(`BENCH_READY ${pids.join(',')}\n`);
});

cluster.on('exit', (worker, code, signal) => {
  exited += 1;
  if (stopping) {
    if (exited >= workers.length) process.exit(0);
    return;
  }
  process.stderr.write(`API worker ${worker.process.pid} died (code ${code}, signal ${signal})\n`);
  stop(1);
});

function stop(code: number) {
  if (stopping) return;
  stopping = true;
  const alive = Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => Boolean(worker));
  if (alive.length === 0) process.exit(code);
  for (const worker of alive) worker.process.kill('SIGTERM');
  setTimeout(() => process.exit(code), 20_000).unref();
}

process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
// The orchestrator went away (crash, Ctrl-C): do not leave API workers behind.
process.on('disconnect', () => stop(0));

workers.push(cluster.fork());
