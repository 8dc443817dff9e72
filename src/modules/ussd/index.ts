/**
 * USSD: feature-phone banking over Africa's Talking, Hubtel, Arkesel and Nalo. Declarative menus (one journey per
 * file) run by the engine on sessions in the ephemeral store; money goes through the same payment engine as the app
 * with the channel `ussd`. Other modules reach it only through this file.
 */
import pino from 'pino';
import { loggerOptions } from '../../platform/logging.ts';
import { defineModule } from '../../platform/modules.ts';
import { billsModule } from '../bills/index.ts';
import { customersModule } from '../customers/index.ts';
import { merchantsModule } from '../merchants/index.ts';
import { notificationsModule } from '../notifications/index.ts';
import { onboardingModule } from '../onboarding/index.ts';
import { settingsModule } from '../settings/index.ts';
import { transactionsModule } from '../transactions/index.ts';
import { walletsModule } from '../wallets/index.ts';
import { UssdAccounts } from './ussd.account.ts';
import { createUssdAgents } from './ussd.agent.ts';
import { type EngineConfig, engineConfig } from './ussd.config.ts';
import { UssdEngine } from './ussd.engine.ts';
import { forgetUssdCustomer } from './ussd.erasure.ts';
import { ussdErrors } from './ussd.errors.ts';
import type { GatewayName } from './ussd.gateway.types.ts';
import { type GatewayConfigValues, gatewayConfig } from './ussd.gateways.config.ts';
import { JOURNEYS } from './ussd.journeys.ts';
import { createUssdLoans } from './ussd.loans.ts';
import { UssdMoney } from './ussd.money.ts';
import { outcomeNotifier, seedUssdTemplates } from './ussd.notify.ts';
import type { UssdServices } from './ussd.ports.ts';
import { createUssdRegistration } from './ussd.registration.ts';
import { gatewayTables } from './ussd.reports.tables.ts';
import { UssdReports } from './ussd.reports.ts';
import { ussdGatewayRoutes } from './ussd.routes.ts';
import { ussdSubscriptionRoutes } from './ussd.subscription.routes.ts';
import { ussdProfiles } from './ussd.tables.ts';

export { UssdEngine } from './ussd.engine.ts';
export type { UssdReply, UssdRequest } from './ussd.gateway.types.ts';

/** Seconds a gateway keeps a session when its own variable does not say (Africa's Talking: 180 s). */
const DEFAULT_SESSION_TTL_SECONDS = 180;

export interface UssdApi {
  engine: UssdEngine;
  services: UssdServices;
}

export const ussdModule = defineModule({
  name: 'ussd',
  description:
    "USSD: feature-phone banking over Africa's Talking, Hubtel, Arkesel and Nalo (registration, money, loans, PIN safety)",
  dependsOn: [
    'settings',
    'identity',
    'customers',
    'notifications',
    'wallets',
    'ledger',
    'policy',
    'approvals',
    'transactions',
    'bills',
    'merchants',
    'loans',
    'onboarding',
    'agents',
  ],
  config: {
    ...engineConfig,
    // area: gateways (config)
    ...gatewayConfig,
  },
  errors: ussdErrors,
  tables: {
    ussdProfiles,
    // area: gateways (tables)
    ...gatewayTables,
  },
  permissions: [
    { code: 'ussd:read', description: 'Read USSD session reports and customers’ USSD settings' },
    { code: 'ussd:manage', description: 'Switch the USSD channel on or off for a customer' },
  ],
  create: (ctx): UssdApi => {
    const { deps } = ctx;
    const config = ctx.config as unknown as EngineConfig & Record<string, unknown>;
    const logger = pino(loggerOptions(deps.config.LOG_LEVEL)).child({ module: 'ussd' });
    const services: UssdServices = {
      // area: account
      account: new UssdAccounts(deps.database.db, ctx.use(customersModule).auth),
      // area: money
      money: new UssdMoney({
        deps,
        wallets: ctx.use(walletsModule),
        transactions: ctx.use(transactionsModule).service,
        bills: ctx.use(billsModule),
        merchants: ctx.use(merchantsModule),
        settings: ctx.use(settingsModule),
      }),
      // area: loans
      loans: createUssdLoans(ctx),
      // area: registration
      registration: createUssdRegistration(ctx.use(onboardingModule)),
      // area: agent
      agent: createUssdAgents(ctx),
    };
    ctx.use(customersModule).customers.addErasureStep(forgetUssdCustomer);
    const engine = new UssdEngine({
      store: deps.store,
      journeys: JOURNEYS,
      services,
      config,
      pepper: deps.config.HMAC_PEPPER,
      sessionTtlMs: (gateway: GatewayName) => {
        const seconds = config[`USSD_${gateway.toUpperCase()}_SESSION_TTL_SECONDS`];
        return (typeof seconds === 'number' ? seconds : DEFAULT_SESSION_TTL_SECONDS) * 1000;
      },
      notifier: outcomeNotifier(deps, ctx.use(notificationsModule).service, logger),
      logger,
    });
    return { engine, services };
  },
  routes: (api, ctx) => [
    // area: gateways (routes)
    ussdGatewayRoutes(
      api.engine,
      { ...(ctx.config as unknown as GatewayConfigValues), PRODUCTION: ctx.deps.config.PRODUCTION },
      new UssdReports(ctx.deps.database.db),
    ),
    // area: account (routes)
    ussdSubscriptionRoutes(api.services.account),
  ],
  seed: async ({ deps }) => {
    await seedUssdTemplates(deps);
  },
});
