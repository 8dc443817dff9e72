/**
 * What bench/compare.ts and bench/compare-side.ts say to each other over IPC. The baseline side may run the bench/ of
 * another commit (`--baseline-bench`), so these shapes only ever grow: a field is added, never renamed or removed.
 */
import type { LoadResult } from './load.ts';

/** One side's settings, passed as JSON in COMPARE_SIDE. */
export interface SideSettings {
  /** `baseline` or `current`, for the progress lines. */
  label: string;
  database: string;
  serverUrl: string;
  redisUrl: string;
  redisKeyPrefix: string;
  dataDir: string;
  /** DATABASE_POOL_SIZE of the API worker. */
  pool: number;
  customers: number;
  /** Customers with a session, among whom each request picks its payer. */
  holders: number;
  logLevel: string;
  /** Seconds of unmeasured transfers the fresh API serves before it reports ready. */
  warmSeconds: number;
}

/** Orchestrator → side. */
export type SideMessage =
  | { type: 'run'; connections: number; seconds: number; warmupSeconds: number }
  | { type: 'stop' };

/** Side → orchestrator, once its API is seeded, up and warm. */
export interface SideReady {
  type: 'ready';
  base: string;
  pids: number[];
  seedSeconds: number;
}

/** Side → orchestrator: a measured run (without its latency array), then ledger-verify's verdict. */
export interface SideResult {
  type: 'result';
  result: Omit<LoadResult, 'latencies'>;
  verification: string;
}

/** A tree being compared, as checked out for this run. */
export interface Tree {
  label: 'baseline' | 'current';
  /** What was asked for (`7eb6267`, `HEAD`, `worktree`). */
  asked: string;
  /** The commit (HEAD's when the tree is this checkout as it is, uncommitted changes included). */
  commit: string;
  subject: string;
  directory: string;
  /** Whether this run created the directory (a worktree to remove at the end). */
  created: boolean;
  /** The commit bench/ was taken from, when it is not the tree's own. */
  benchFrom?: string;
  nodeModules: string;
}

export interface ComparedRun extends SideResult {
  round: number;
  side: Tree['label'];
}
