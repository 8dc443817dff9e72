/**
 * Prometheus counters of the registration funnel: steps done (by step and the state reached), registrations started
 * and ended (by outcome), and the time each step took from the registration's start. They live in prom-client's
 * process-wide registry, which `/metrics` serves after the app's own (one set per process, shared by the apps a test
 * process builds).
 */
import { Counter, Histogram, type Metric, register } from 'prom-client';

const ENDINGS = new Set(['completed', 'declined', 'rejected', 'expired', 'sign_in_required']);

export class JourneyMetrics {
  readonly #steps: Counter<'step' | 'state'>;
  readonly #ended: Counter<'outcome'>;
  readonly #started: Counter<'outcome'>;
  readonly #seconds: Histogram<'step'>;

  constructor() {
    const once = <M extends Metric>(name: string, make: () => M): M =>
      (register.getSingleMetric(name) as M | undefined) ?? make();
    const registers = [register];
    this.#steps = once(
      'onboarding_steps_total',
      () =>
        new Counter({
          name: 'onboarding_steps_total',
          help: 'Registration steps done, by step and the state they led to',
          labelNames: ['step', 'state'],
          registers,
        }),
    );
    this.#started = once(
      'onboarding_registrations_started_total',
      () =>
        new Counter({
          name: 'onboarding_registrations_started_total',
          help: 'Phone checks that started a registration, by outcome (eligible, existing_customer)',
          labelNames: ['outcome'],
          registers,
        }),
    );
    this.#ended = once(
      'onboarding_registrations_ended_total',
      () =>
        new Counter({
          name: 'onboarding_registrations_ended_total',
          help: 'Registrations that reached an end state, by that state',
          labelNames: ['outcome'],
          registers,
        }),
    );
    this.#seconds = once(
      'onboarding_step_seconds_since_start',
      () =>
        new Histogram({
          name: 'onboarding_step_seconds_since_start',
          help: 'Seconds from the phone check to each step',
          labelNames: ['step'],
          buckets: [10, 30, 60, 120, 300, 600, 1800, 3600, 21600, 86400, 259200],
          registers,
        }),
    );
  }

  started(outcome: 'eligible' | 'existing_customer'): void {
    this.#started.inc({ outcome });
    if (outcome === 'existing_customer') this.#ended.inc({ outcome: 'sign_in_required' });
  }

  stepDone(step: string, _from: string, to: string, startedAt?: Date): void {
    this.#steps.inc({ step, state: to });
    if (ENDINGS.has(to) && _from !== to) this.#ended.inc({ outcome: to });
    if (startedAt) this.#seconds.observe({ step }, (Date.now() - startedAt.getTime()) / 1000);
  }
}
