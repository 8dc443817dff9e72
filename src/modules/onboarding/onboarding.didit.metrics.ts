/**
 * Prometheus counter of what Didit told the platform: each webhook, callback and poll by its outcome (applied,
 * recorded, duplicate, ignored; rejected for a webhook that failed verification; unavailable when Didit did not
 * answer). A rise in `rejected` is forged or misconfigured deliveries (a secret rotation gone wrong); `poll` outcomes
 * that keep `applied` high mean webhooks are not arriving. In prom-client's process-wide registry, like the journey's.
 */
import { Counter, register } from 'prom-client';

export type DiditEventSource = 'webhook' | 'callback' | 'poll';
export type DiditEventOutcome = 'applied' | 'recorded' | 'duplicate' | 'ignored' | 'rejected' | 'unavailable';

const NAME = 'onboarding_didit_events_total';

function counter(): Counter<'source' | 'outcome'> {
  return (
    (register.getSingleMetric(NAME) as Counter<'source' | 'outcome'> | undefined) ??
    new Counter({
      name: NAME,
      help: 'Didit webhooks, callbacks and polls, by source and outcome',
      labelNames: ['source', 'outcome'],
      registers: [register],
    })
  );
}

export class DiditMetrics {
  readonly #events = counter();

  event(source: DiditEventSource, outcome: DiditEventOutcome): void {
    this.#events.inc({ source, outcome });
  }

  /** The count so far (tests). */
  async count(source: DiditEventSource, outcome: DiditEventOutcome): Promise<number> {
    const { values } = await this.#events.get();
    return (
      values.find((value) => value.labels.source === source && value.labels.outcome === outcome)?.value ?? 0
    );
  }
}
