/**
 * The screening points: where a person or an agent is screened against the lists, always through the Screener port
 * (which records the screening and raises the alert its score band asks for).
 * - onboarding: the onboarding module's ScreeningPort (`onboardingPort`): a `hit` sends the registration to review
 *   (`hit: true`, the matches in the reviewer's words); a `review` band only alerts;
 * - KYC changes and activation (`kyc.decided`, `onboarding.customer_activated`): the customer again;
 * - the beneficiary of a large transfer (`transaction.completed` at or above `aml.beneficiary_screening_threshold_minor`
 *   in its currency);
 * - agents and their owners (the agents module publishes no topic: a scheduled sweep screens every agent not
 *   screened yet, and each rescreening covers them all);
 * - every customer and agent again after a list version with differences (`aml.list_loaded`), in batches, each a
 *   job that queues the next.
 * Event handlers only queue jobs (in the consumer's transaction): the screening itself runs in the job, outside it.
 * Each job is idempotent by its trigger: a subject already screened for that trigger is not screened again.
 */
import { and, eq, inArray } from 'drizzle-orm';
import type { ScreeningPort, ScreeningResult, ScreeningSubject } from '../../integrations/ports.ts';
import { systemContext } from '../../platform/audit.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import { AppError } from '../../platform/error-catalogue.ts';
import type { PayloadOf } from '../../platform/events.ts';
import type { Principal } from '../../platform/http.ts';
import type { Jobs } from '../../platform/jobs.ts';
import type { AgentsApi } from '../agents/index.ts';
import type { CustomersService } from '../customers/index.ts';
import type { SettingsService } from '../settings/index.ts';
import type { transactionCompleted } from '../transactions/index.ts';
import { countryCode } from './aml.lists.parse.ts';
import type { Screener, ScreeningRecord, ScreeningRequest } from './aml.ports.ts';
import type { amlListLoaded } from './aml.screening.events.ts';

type AgentNetwork = AgentsApi['network'];

import { amlScreenings, type ScreeningSubjectKind } from './aml.tables.ts';

export const SCREEN_SUBJECT_JOB = 'aml.screening-subject';
export const RESCREEN_JOB = 'aml.lists-rescreen';

export interface SubjectJob {
  kind: 'customer' | 'beneficiary';
  customer_id: string;
  trigger: string;
}

export interface RescreenJob {
  list_id: string;
  /** `customers` first, then `agents`. */
  phase?: 'customers' | 'agents';
  cursor?: string | null;
}

/** Reads customers' names without personal data in clear (the profile's `get` with no PII asks no permission). */
const READER: Principal = {
  type: 'user',
  id: '00000000-0000-0000-0000-000000000000',
  sessionId: '',
  tokenId: '',
  tokenExpiresAt: 0,
  permissions: new Set(),
  roles: [],
  passwordChangeRequired: false,
  mfaEnrollmentRequired: false,
  channel: 'api',
};

interface CustomerLike {
  id: string;
  customer_type: string;
  first_name: string;
  middle_name: string | null;
  last_name: string;
  business_name: string | null;
  nationality: string | null;
  status: string;
}

const fullName = (customer: CustomerLike) =>
  customer.customer_type !== 'individual' && customer.business_name
    ? customer.business_name
    : [customer.first_name, customer.middle_name, customer.last_name].filter(Boolean).join(' ');

/**
 * What the onboarding reviewer reads for a hit: the screening's reference only. Its matches (lists, names, scores) are
 * AML's, read with `aml:read` (tipping-off: the review queue is open to staff without `aml:*`).
 */
export const hitReference = (record: ScreeningRecord): string => `AML screening ${record.id}`;

export interface ScreeningPointsDeps {
  db: Executor;
  jobs: Jobs;
  screener: Screener;
  customers: CustomersService;
  settings: SettingsService;
  agents: AgentNetwork;
  rescreenBatch: number;
}

export class ScreeningPoints {
  readonly #deps: ScreeningPointsDeps;

  constructor(deps: ScreeningPointsDeps) {
    this.#deps = deps;
  }

  get screener(): Screener {
    return this.#deps.screener;
  }

  /** The onboarding module's ScreeningPort: a registration's applicant, screened before activation. */
  onboardingPort(): ScreeningPort {
    return {
      name: 'aml',
      configured: true,
      screen: async (subject: ScreeningSubject): Promise<ScreeningResult> => {
        const record = await this.#deps.screener.screen({
          kind: 'onboarding',
          name: subject.fullName,
          birthDate: subject.dateOfBirth ?? null,
          nationality: subject.nationality ? countryCode(subject.nationality) : null,
          trigger: 'onboarding',
        });
        // A hit holds the registration for review; the review band only raises its alert (done by the screener).
        return record.outcome === 'hit'
          ? { hit: true, matches: [hitReference(record)], provider: 'aml' }
          : { hit: false, matches: [], provider: 'aml' };
      },
    };
  }

  // --- Event handlers: queue the screening in the consumer's transaction ----------------------------------------

  async onKycDecided(
    tx: Executor,
    payload: { customer_id: string; application_id: string; decision: string },
  ) {
    if (payload.decision !== 'approved') return;
    await this.#queue(tx, {
      kind: 'customer',
      customer_id: payload.customer_id,
      trigger: `kyc_change:${payload.application_id}`,
    });
  }

  async onActivated(tx: Executor, payload: { customer_id: string; registration_id: string }) {
    await this.#queue(tx, {
      kind: 'customer',
      customer_id: payload.customer_id,
      trigger: `activation:${payload.registration_id}`,
    });
  }

  /** A transfer at or above the threshold of its currency: its receiving customer is screened. */
  async onTransferCompleted(tx: Executor, payload: PayloadOf<typeof transactionCompleted>) {
    const beneficiary = payload.destination_customer_id;
    if (!beneficiary || beneficiary === payload.source_customer_id) return;
    const thresholds = await this.#deps.settings.get('aml.beneficiary_screening_threshold_minor');
    const threshold = thresholds[payload.currency];
    if (threshold === undefined || BigInt(payload.amount) < BigInt(threshold)) return;
    await this.#queue(tx, {
      kind: 'beneficiary',
      customer_id: beneficiary,
      trigger: `large_transfer:${payload.transaction_id}`,
    });
  }

  /** A version with differences: the rescreening of everyone starts (its first batch). */
  async onListLoaded(tx: Executor, payload: PayloadOf<typeof amlListLoaded>) {
    if (payload.added + payload.removed + payload.changed === 0) return;
    await this.#deps.jobs.enqueue(tx, RESCREEN_JOB, { list_id: payload.list_id, phase: 'customers' });
  }

  #queue(tx: Executor, job: SubjectJob) {
    return this.#deps.jobs.enqueue(tx, SCREEN_SUBJECT_JOB, job);
  }

  // --- Jobs ------------------------------------------------------------------------------------------------------

  /** Screens one customer for a trigger (once: a retried job finds the screening already made). */
  async screenSubject(job: SubjectJob): Promise<ScreeningRecord | null> {
    if (await this.#screened(job.kind, [job.customer_id], job.trigger).then((done) => done.size > 0))
      return null;
    let customer: CustomerLike;
    try {
      customer = (await this.#deps.customers.get(
        job.customer_id,
        READER,
        false,
        systemContext(),
      )) as CustomerLike;
    } catch (error) {
      // A customer gone since the event (never a retry's reason).
      if (error instanceof AppError && error.statusCode === 404) return null;
      throw error;
    }
    return this.#screenCustomer(customer, job.kind, job.trigger);
  }

  /** One batch of the rescreening after a list change; queues the next batch (or the agents) until done. */
  async rescreenBatch(job: RescreenJob): Promise<{ screened: number; next: RescreenJob | null }> {
    const trigger = `list_change:${job.list_id}`;
    const limit = this.#deps.rescreenBatch;
    let screened = 0;
    let next: RescreenJob | null;
    if ((job.phase ?? 'customers') === 'customers') {
      const page = await this.#deps.customers.search({
        limit,
        ...(job.cursor ? { cursor: job.cursor } : {}),
      });
      const items = (page.items as CustomerLike[]).filter((customer) => customer.status !== 'closed');
      const done = await this.#screened(
        'customer',
        items.map((customer) => customer.id),
        trigger,
      );
      for (const customer of items) {
        if (done.has(customer.id)) continue;
        await this.#screenCustomer(customer, 'customer', trigger);
        screened += 1;
      }
      next = page.next_cursor
        ? { list_id: job.list_id, phase: 'customers', cursor: page.next_cursor }
        : { list_id: job.list_id, phase: 'agents', cursor: null };
    } else {
      const page = await this.#deps.agents.listAgents({
        limit,
        ...(job.cursor ? { cursor: job.cursor } : {}),
      });
      screened = await this.#screenAgents(page.items, trigger);
      next = page.next_cursor ? { list_id: job.list_id, phase: 'agents', cursor: page.next_cursor } : null;
    }
    return { screened, next };
  }

  /** Runs a rescreen job and queues its next batch (the job handler). */
  async runRescreen(job: RescreenJob): Promise<void> {
    const { next } = await this.rescreenBatch(job);
    if (next) {
      await inTransaction(this.#deps.db, (tx) => this.#deps.jobs.enqueue(tx, RESCREEN_JOB, next));
    }
  }

  /** The agents not screened yet (new ones: the agents module publishes no topic), with their owners. */
  async screenNewAgents(): Promise<number> {
    let cursor: string | null = null;
    let screened = 0;
    do {
      const page: Awaited<ReturnType<AgentNetwork['listAgents']>> = await this.#deps.agents.listAgents({
        limit: 200,
        ...(cursor ? { cursor } : {}),
      });
      screened += await this.#screenAgents(page.items, 'agent_created');
      cursor = page.next_cursor;
    } while (cursor);
    return screened;
  }

  async #screenAgents(
    agents: readonly { id: string; business_name: string; owner_customer_id: string; status: string }[],
    trigger: string,
  ): Promise<number> {
    const live = agents.filter((agent) => agent.status !== 'closed');
    const done = await this.#screened(
      'agent',
      live.map((agent) => agent.id),
      trigger === 'agent_created' ? null : trigger,
    );
    let screened = 0;
    for (const agent of live) {
      if (done.has(agent.id)) continue;
      await this.#deps.screener.screen({
        kind: 'agent',
        subjectId: agent.id,
        name: agent.business_name,
        trigger,
        agentId: agent.id,
        customerId: agent.owner_customer_id,
      });
      const owner = (await this.#deps.customers.get(
        agent.owner_customer_id,
        READER,
        false,
        systemContext(),
      )) as CustomerLike;
      await this.#screenCustomer(owner, 'agent_owner', trigger, agent.id);
      screened += 1;
    }
    return screened;
  }

  #screenCustomer(
    customer: CustomerLike,
    kind: ScreeningSubjectKind,
    trigger: string,
    agentId?: string,
  ): Promise<ScreeningRecord> {
    const request: ScreeningRequest = {
      kind,
      subjectId: customer.id,
      name: fullName(customer),
      nationality: customer.nationality ? countryCode(customer.nationality) : null,
      trigger,
      customerId: customer.id,
      ...(agentId ? { agentId } : {}),
    };
    return this.#deps.screener.screen(request);
  }

  /** Which of the subjects were screened for this trigger already (any trigger when null). */
  async #screened(kind: ScreeningSubjectKind, ids: readonly string[], trigger: string | null) {
    if (ids.length === 0) return new Set<string>();
    const rows = await this.#deps.db
      .selectDistinct({ id: amlScreenings.subjectId })
      .from(amlScreenings)
      .where(
        and(
          eq(amlScreenings.subjectKind, kind),
          inArray(amlScreenings.subjectId, [...ids]),
          trigger ? eq(amlScreenings.trigger, trigger) : undefined,
        ),
      );
    return new Set(rows.map((row) => row.id));
  }
}
