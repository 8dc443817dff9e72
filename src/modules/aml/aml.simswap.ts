/**
 * AML's SIM-swap source: the operator's CAMARA SIM Swap API (src/integrations/camara-sim-swap), when configured
 * (SIM_SWAP_*). After a customer's payment the SIM-swap/new-device typology looks at (a cash-out or a large transfer)
 * and after a customer's new-device sign-in, the event handler queues a job (in the consumer's transaction); the job
 * asks `retrieve-date` for the customer's primary phone, outside any transaction, and when the last SIM change falls
 * within `aml.sim_swap_lookback_hours` before the trigger it records an `aml_device_events` row of kind `sim_swap` at
 * that time (one per customer and swap time), then runs `scenario_new_device_cash_out` again on the customer's
 * payments in the typology's window after the swap (the triggering one included): the alert is raised although the
 * swap became known after the payment. A provider failure fails the job, which pg-boss retries (bounded, then the
 * dead-letter queue); payments never wait for it. Unset, nothing is queued and nothing is called.
 */
import { and, asc, eq, gte, lte } from 'drizzle-orm';
import {
  CamaraSimSwapClient,
  SimSwapError,
  type SimSwapSource,
} from '../../integrations/camara-sim-swap/camara-sim-swap.client.ts';
import { integer, text, url, variable } from '../../platform/config-spec.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { DomainEvent } from '../../platform/events.ts';
import { uuidv7 } from '../../platform/ids.ts';
import type { Jobs } from '../../platform/jobs.ts';
import type { HealthCheck, ModuleJob } from '../../platform/modules.ts';
import { primaryContact } from '../customers/index.ts';
import type { newDeviceLogin } from '../identity/index.ts';
import type { SettingsService } from '../settings/index.ts';
import type { PaymentFacts } from './aml.facts.ts';
import type { ParamsOf, ScenarioRules } from './aml.scenarios.rules.ts';
import type { ScenarioOutcome, ScenarioService } from './aml.scenarios.ts';
import { newDeviceCashOutApplies } from './aml.scenarios.typologies.ts';
import { amlDeviceEvents, amlPaymentFacts } from './aml.tables.ts';

/** The SIM-swap source's variables (AML's `config` in index.ts; documented in .env.example). */
export const simSwapConfig = {
  SIM_SWAP_API_ROOT: variable(
    'CAMARA SIM Swap API root (POST {root}/sim-swap/v2/retrieve-date); unset: AML has no SIM-swap source and the SIM-swap/new-device typology sees new-device sign-ins only.',
    undefined,
    url(['https:', 'http:']),
  ),
  SIM_SWAP_TOKEN_URL: variable(
    'OAuth2 token endpoint of the SIM Swap API (client credentials, HTTP Basic); required with SIM_SWAP_API_ROOT.',
    undefined,
    url(['https:', 'http:']),
  ),
  SIM_SWAP_CLIENT_ID: variable('OAuth2 client id at the SIM Swap API.', undefined, text),
  SIM_SWAP_CLIENT_SECRET: variable('OAuth2 client secret at the SIM Swap API.', undefined, text, true),
  SIM_SWAP_TIMEOUT_MS: variable(
    'Timeout of one SIM Swap API call (token or query).',
    '5000',
    integer(100, 60000),
  ),
};

export interface SimSwapConfigValues {
  SIM_SWAP_API_ROOT?: string;
  SIM_SWAP_TOKEN_URL?: string;
  SIM_SWAP_CLIENT_ID?: string;
  SIM_SWAP_CLIENT_SECRET?: string;
  SIM_SWAP_TIMEOUT_MS: number;
}

/** The CAMARA client when SIM_SWAP_API_ROOT is set (then the token URL and credentials are required), else null. */
export function simSwapSourceFrom(config: SimSwapConfigValues): SimSwapSource | null {
  if (!config.SIM_SWAP_API_ROOT) return null;
  const missing = (['SIM_SWAP_TOKEN_URL', 'SIM_SWAP_CLIENT_ID', 'SIM_SWAP_CLIENT_SECRET'] as const).filter(
    (name) => !config[name],
  );
  if (missing.length > 0) throw new Error(`${missing.join(', ')} required when SIM_SWAP_API_ROOT is set`);
  return new CamaraSimSwapClient({
    apiRoot: config.SIM_SWAP_API_ROOT,
    tokenUrl: config.SIM_SWAP_TOKEN_URL!,
    clientId: config.SIM_SWAP_CLIENT_ID!,
    clientSecret: config.SIM_SWAP_CLIENT_SECRET!,
    timeoutMs: config.SIM_SWAP_TIMEOUT_MS,
  });
}

export const SIM_SWAP_JOB = 'aml.sim-swap';

export interface SimSwapJob {
  customer_id: string;
  /** The payment that asked (null after a new-device sign-in). */
  transaction_id: string | null;
  /** When the trigger happened (ISO 8601): the lookback is counted back from it. */
  at: string;
}

/** What one job found: `recorded` the swap's new device event (null when there was nothing new to record). */
export interface SimSwapResult {
  outcome: 'no_phone' | 'not_applicable' | 'no_swap' | 'outside_lookback' | 'recorded' | 'known';
  swapAt: Date | null;
  alerts: ScenarioOutcome[];
}

const HOUR = 3_600_000;
/** A swap reported this far in the future (a clock off) is still taken; further, it is not believed. */
const CLOCK_SKEW_MS = 10 * 60_000;
/** At most this many of the customer's payments are run again after one swap. */
const RERUN_LIMIT = 50;
const CODE = 'scenario_new_device_cash_out';

export class SimSwapWatch {
  readonly #db: Executor;
  readonly #jobs: Jobs;
  readonly #source: SimSwapSource | null;
  readonly #settings: Pick<SettingsService, 'get'>;
  readonly #facts: PaymentFacts;
  readonly #rules: ScenarioRules;
  readonly #scenarios: ScenarioService;

  constructor(deps: {
    db: Executor;
    jobs: Jobs;
    source: SimSwapSource | null;
    settings: Pick<SettingsService, 'get'>;
    facts: PaymentFacts;
    rules: ScenarioRules;
    scenarios: ScenarioService;
  }) {
    this.#db = deps.db;
    this.#jobs = deps.jobs;
    this.#source = deps.source;
    this.#settings = deps.settings;
    this.#facts = deps.facts;
    this.#rules = deps.rules;
    this.#scenarios = deps.scenarios;
  }

  get configured(): boolean {
    return this.#source !== null;
  }

  /** The readiness probe: a token can be had, or not configured on purpose. */
  async ping(): Promise<undefined | 'not_configured'> {
    if (!this.#source) return 'not_configured';
    await this.#source.ping();
    return undefined;
  }

  /** After `transaction.completed` (its fact written): a job when the typology looks at this payment. */
  async afterPayment(tx: Executor, transactionId: string): Promise<void> {
    if (!this.#source) return;
    const params = await this.#params();
    if (!params) return;
    const fact = await this.#facts.find(tx, transactionId);
    if (!fact?.customerId || !newDeviceCashOutApplies(fact, params)) return;
    await this.#enqueue(tx, {
      customer_id: fact.customerId,
      transaction_id: fact.transactionId,
      at: fact.occurredAt.toISOString(),
    });
  }

  /** After a customer's `auth.new_device_login`: a job (a swap often comes with a sign-in on a new phone). */
  async afterNewDevice(tx: Executor, event: DomainEvent<typeof newDeviceLogin>): Promise<void> {
    if (!this.#source || event.payload.principal_type !== 'customer') return;
    if (!(await this.#params())) return;
    const at = new Date(event.payload.at);
    await this.#enqueue(tx, {
      customer_id: event.payload.principal_id,
      transaction_id: null,
      at: (Number.isNaN(at.getTime()) ? event.occurredAt : at).toISOString(),
    });
  }

  /**
   * The job: ask the provider (no transaction open), record a recent swap, run the typology again. A failure of the
   * provider throws (the job is retried); a number the operator does not serve is an answer.
   */
  async check(job: SimSwapJob): Promise<SimSwapResult> {
    const none = (outcome: SimSwapResult['outcome'], swapAt: Date | null = null): SimSwapResult => ({
      outcome,
      swapAt,
      alerts: [],
    });
    if (!this.#source) return none('not_applicable');
    const phone = await primaryContact(this.#db, job.customer_id, 'phone');
    if (!phone) return none('no_phone');
    let swapAt: Date | null;
    try {
      swapAt = (await this.#source.retrieveDate(phone)).latestSimChange;
    } catch (error) {
      if (error instanceof SimSwapError && error.kind === 'not_applicable') return none('not_applicable');
      throw error;
    }
    if (!swapAt) return none('no_swap');
    const trigger = new Date(job.at).getTime();
    const lookback = await this.#settings.get('aml.sim_swap_lookback_hours');
    if (swapAt.getTime() < trigger - lookback * HOUR || swapAt.getTime() > Date.now() + CLOCK_SKEW_MS)
      return none('outside_lookback', swapAt);
    const params = await this.#params();
    return inTransaction(this.#db, async (tx) => {
      const [inserted] = await tx
        .insert(amlDeviceEvents)
        .values({
          id: uuidv7(),
          customerId: job.customer_id,
          kind: 'sim_swap',
          detail: 'SIM change reported by the operator (CAMARA SIM Swap)',
          sourceEventId: null,
          occurredAt: swapAt,
        })
        .onConflictDoNothing()
        .returning({ id: amlDeviceEvents.id });
      const alerts = params ? await this.#rerun(tx, job.customer_id, swapAt, params) : [];
      return { outcome: inserted ? 'recorded' : 'known', swapAt, alerts };
    });
  }

  /** The typology again on the customer's payments in its window after the swap (each alert once: its dedupe key). */
  async #rerun(
    tx: Executor,
    customerId: string,
    swapAt: Date,
    params: ParamsOf<typeof CODE>,
  ): Promise<ScenarioOutcome[]> {
    const facts = await tx
      .select()
      .from(amlPaymentFacts)
      .where(
        and(
          eq(amlPaymentFacts.customerId, customerId),
          gte(amlPaymentFacts.occurredAt, swapAt),
          lte(amlPaymentFacts.occurredAt, new Date(swapAt.getTime() + params.window_hours * HOUR)),
        ),
      )
      .orderBy(asc(amlPaymentFacts.occurredAt))
      .limit(RERUN_LIMIT * 4);
    const outcomes: ScenarioOutcome[] = [];
    for (const fact of facts.filter((row) => newDeviceCashOutApplies(row, params)).slice(0, RERUN_LIMIT))
      outcomes.push(...(await this.#scenarios.run(tx, fact, CODE)));
    return outcomes;
  }

  /** The typology's current params, or null when it is disabled (then nobody is asked). */
  async #params(): Promise<ParamsOf<typeof CODE> | null> {
    const rule = (await this.#rules.current()).find((candidate) => candidate.code === CODE);
    return rule && rule.mode !== 'disabled' ? (rule.params as ParamsOf<typeof CODE>) : null;
  }

  #enqueue(tx: Executor, job: SimSwapJob): Promise<string | null> {
    // A redelivered event queues the question again: harmless (the swap's row and the alerts are keyed).
    return this.#jobs.enqueue(tx, SIM_SWAP_JOB, job);
  }
}

export function simSwapJobs(watch: SimSwapWatch): ModuleJob[] {
  return [
    {
      name: SIM_SWAP_JOB,
      // Bounded: 6 retries with backoff from 10 s (about 10 minutes), then the dead-letter queue.
      retryLimit: 6,
      retryDelaySeconds: 10,
      expireInSeconds: 120,
      handle: async (data: object) => {
        await watch.check(data as SimSwapJob);
      },
    },
  ];
}

export function simSwapHealth(watch: SimSwapWatch): Record<string, HealthCheck> {
  return { 'aml.sim_swap': { probe: () => watch.ping(), critical: false } };
}
