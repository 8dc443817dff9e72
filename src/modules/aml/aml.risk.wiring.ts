/**
 * How the risk area plugs into the AML module (index.ts, between its `area: risk` markers): the RiskService (the
 * RiskReader the realtime and cases areas read), its routes, the nightly recompute and the events that recompute.
 */
import { on, type Subscription } from '../../platform/events.ts';
import type { ModuleContext, ScheduledTask } from '../../platform/modules.ts';
import { customersModule } from '../customers/index.ts';
import { kycDecided, kycModule } from '../kyc/index.ts';
import { settingsModule } from '../settings/index.ts';
import { walletsModule } from '../wallets/index.ts';
import { amlAlertRaised } from './aml.cases.events.ts';
import type { AlertSink } from './aml.ports.ts';
import { RISK_FACTORS } from './aml.risk.factors.ts';
import { RiskInputsReader } from './aml.risk.inputs.ts';
import { riskRoutes } from './aml.risk.routes.ts';
import { RiskService } from './aml.risk.ts';

const DAY_MS = 86_400_000;

export function buildRisk(ctx: ModuleContext, ports: { alerts: AlertSink }): { risk: RiskService } {
  const db = ctx.deps.database.db;
  const settings = ctx.use(settingsModule);
  settings.addCheck('aml.risk_weights', (value) => {
    const weights = value as Record<string, number>;
    return RISK_FACTORS.some((factor) => (weights[factor] ?? 0) > 0)
      ? null
      : 'At least one risk factor needs a weight above 0';
  });
  settings.addCheck('aml.risk_bands', (value) => {
    const bands = value as { medium: number; high: number };
    return bands.medium <= bands.high ? null : 'The medium band must start at or below the high band';
  });
  const inputs = new RiskInputsReader({
    db,
    customers: ctx.use(customersModule),
    kyc: ctx.use(kycModule),
    wallets: ctx.use(walletsModule),
  });
  return { risk: new RiskService({ db, settings, inputs, alerts: ports.alerts }) };
}

export const riskAreaRoutes = (api: { risk: RiskService }) => riskRoutes(api.risk);

/** Every day at 01:40 UTC: customers with a payment (either side) in the last day are rated again. */
export function riskJobs(risk: RiskService): ScheduledTask[] {
  return [
    {
      name: 'aml.risk-recompute-active',
      schedule: '40 1 * * *',
      run: () => risk.recomputeActive(new Date(Date.now() - DAY_MS)),
    },
  ];
}

/**
 * A KYC decision (the tier changed, or an upgrade was refused) and an AML alert of the customer (not the risk
 * area's own, which follows from the rating) recompute the rating. The customers module publishes no topic for a
 * changed nationality, address or occupation: those are read at the next recompute (nightly, an event, staff).
 */
export function riskSubscriptions(risk: RiskService): Subscription[] {
  return [
    on(kycDecided, (tx, event) => risk.recomputeOnEvent(tx, event.payload.customer_id, kycDecided.name)),
    on(amlAlertRaised, async (tx, event) => {
      const { customer_id: customerId, source } = event.payload;
      if (customerId && source !== 'risk') await risk.recomputeOnEvent(tx, customerId, amlAlertRaised.name);
    }),
  ];
}
