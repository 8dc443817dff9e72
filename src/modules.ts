/**
 * The module list: the one place a new module is added (one line), in any order — the system orders them by
 * `dependsOn`. The API (app.ts), the worker (jobs.ts), the seed and the OpenAPI generator all iterate over it.
 */
import { type Config, moduleConfigsOf } from './config.ts';
import { accessModule } from './modules/access/index.ts';
import { agentsModule } from './modules/agents/index.ts';
import { amlModule } from './modules/aml/index.ts';
import { approvalsModule } from './modules/approvals/index.ts';
import { bankingModule } from './modules/banking/index.ts';
import { billsModule } from './modules/bills/index.ts';
import { coreModule } from './modules/core/index.ts';
import { customersModule } from './modules/customers/index.ts';
import { disputesModule } from './modules/disputes/index.ts';
import { documentsModule } from './modules/documents/index.ts';
import { identityModule } from './modules/identity/index.ts';
import { kycModule } from './modules/kyc/index.ts';
import { ledgerModule } from './modules/ledger/index.ts';
import { loansModule } from './modules/loans/index.ts';
import { merchantsModule } from './modules/merchants/index.ts';
import { notificationsModule } from './modules/notifications/index.ts';
import { onboardingModule } from './modules/onboarding/index.ts';
import { policyModule } from './modules/policy/index.ts';
import { realtimeModule } from './modules/realtime/index.ts';
import { settingsModule } from './modules/settings/index.ts';
import { supportModule } from './modules/support/index.ts';
import { transactionsModule } from './modules/transactions/index.ts';
import { ussdModule } from './modules/ussd/index.ts';
import { walletsModule } from './modules/wallets/index.ts';
import type { Dependencies } from './platform/dependencies.ts';
import { type ModuleDefinition, ModuleSystem, orderModules } from './platform/modules.ts';

export const MODULES: readonly ModuleDefinition<never>[] = [
  settingsModule,
  identityModule,
  policyModule,
  approvalsModule,
  accessModule,
  coreModule,
  customersModule,
  documentsModule,
  kycModule,
  ledgerModule,
  walletsModule,
  transactionsModule,
  merchantsModule,
  billsModule,
  bankingModule,
  disputesModule,
  notificationsModule,
  realtimeModule,
  supportModule,
  loansModule,
  onboardingModule,
  ussdModule,
  agentsModule,
  amlModule,
] as unknown as readonly ModuleDefinition<never>[];

/** The modules in dependency order (checked: a missing dependency or a cycle throws a ModuleGraphError). */
export function orderedModules(): ModuleDefinition<unknown>[] {
  return orderModules(MODULES as readonly ModuleDefinition<unknown>[]);
}

/**
 * Builds every module's API, then wires what modules contribute to one another: approval actions to the approvals
 * module, principal resolvers to identity.
 */
export async function composeSystem(deps: Dependencies): Promise<ModuleSystem> {
  // Every module's variables are parsed before any is built: one ConfigError lists the problems of all of them.
  const configs = moduleConfigsOf(deps.config as Config, MODULES);
  const system = await ModuleSystem.compose(
    deps,
    MODULES as readonly ModuleDefinition<unknown>[],
    (module) => configs.get(module.name)!,
  );
  const approvals = system.api(approvalsModule);
  for (const { value: actions } of system.collect((m, api, ctx) => m.approvalActions?.(api, ctx)))
    for (const action of actions) approvals.register(action as never);
  const identity = system.api(identityModule);
  for (const { value: resolvers } of system.collect((m, api, ctx) => m.principalResolvers?.(api, ctx)))
    for (const [type, resolver] of Object.entries(resolvers))
      identity.registerPrincipalResolver(type as never, resolver);
  return system;
}

/** Every permission the modules declare (the catalogue the system roles' patterns expand over). */
export function declaredPermissions(): { code: string; description: string }[] {
  return orderedModules().flatMap((module) => [...(module.permissions ?? [])]);
}
