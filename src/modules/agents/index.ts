/**
 * Agents: the agent network. Super-agents, agents and their stores and operators (the `agent_operator` principal),
 * geofenced operator actions, float (top-up, rebalancing), cash-in and cash-out through the payment engine on the
 * `agent` channel, commissions accrued in the same posting and paid out by a job. Other modules reach it only
 * through this file. The areas meet through agents.ports.ts; each wires itself below between its `area:` markers.
 */
import { defineModule } from '../../platform/modules.ts';
import { customersModule } from '../customers/index.ts';
import { onboardingModule } from '../onboarding/index.ts';
import type { AgentAuth } from './agents.auth.ts';
import { buildMoney, type MoneyArea, moneyAreaRoutes } from './agents.cash.wiring.ts';
import {
  buildCommissions,
  commissionAreaRoutes,
  commissionJobs,
  commissionSubscriptions,
  seedCommissionArea,
} from './agents.commission.wiring.ts';
import type { CommissionService } from './agents.commissions.ts';
import { agentErasureObligations } from './agents.erasure.ts';
import { agentsErrors } from './agents.errors.ts';
import { agentsTopics } from './agents.events.ts';
import type { AgentShifts } from './agents.location.shifts.ts';
import type { LocationGuardService } from './agents.location.ts';
import { buildGeo, geoAreaRoutes, geoConfig } from './agents.location.wiring.ts';
import type { AgentNetwork } from './agents.network.ts';
import {
  buildNetwork,
  connectClosureSweep,
  networkApprovalActions,
  networkAreaRoutes,
  operatorResolvers,
} from './agents.network.wiring.ts';
import type { PerformanceService } from './agents.performance.ts';
import { AGENT_TRANSACTION_TYPES } from './agents.ports.ts';
import { AgentRegistrations, registrationRoutes } from './agents.registration.ts';
import * as tables from './agents.tables.ts';

export { AGENT_TRANSACTION_TYPES, type DeviceLocation, type OperatorScope } from './agents.ports.ts';

/** What other modules (USSD, reports) and the routes reach. Each area adds its fields. */
export interface AgentsApi {
  /** Always present: the module's own name (keeps the interface non-empty while areas arrive). */
  readonly module: 'agents';
  // area: network (api)
  /** Agents, stores, operators and their lifecycle; the AgentDirectory the other areas read through. */
  network: AgentNetwork;
  // area: auth (api)
  /** Operator sign-in, the principal resolver and OperatorScopes (`scopes.scopeOf(principal)`). */
  scopes: AgentAuth;
  // area: geo (api)
  /** The LocationGuard every operator money action passes (check, linkTransaction) and violationRate. */
  geo: LocationGuardService;
  /** Operator check-in/out and the staff's alerts and location checks. */
  shifts: AgentShifts;
  // area: float (api)
  // area: cash (api)
  /** Float (top-ups, rebalancing, positions), cash-in and cash-out, withdrawal codes; USSD's cash-out approval. */
  money: MoneyArea;
  // area: commissions (api)
  /** Commission plans, accrual (the cash area's CommissionPort), payouts, clawback, statements. */
  commissions: CommissionService;
  /** Agent performance over a period (for the reports module too). */
  performance: PerformanceService;
  // area: registration (api)
  /** Agent-assisted customer registration through the onboarding module's rules. */
  registrations: AgentRegistrations;
}

export const agentsModule = defineModule({
  name: 'agents',
  description:
    'Agent network: agents, stores and operators with geofencing, float, cash-in and cash-out, commissions',
  dependsOn: [
    'settings',
    'identity',
    'customers',
    'kyc',
    'notifications',
    'wallets',
    'ledger',
    'policy',
    'approvals',
    'transactions',
    'onboarding',
  ],
  // area: config (one spread per area)
  config: { ...geoConfig },
  errors: agentsErrors,
  tables: {
    agents: tables.agents,
    agentStores: tables.agentStores,
    agentOperators: tables.agentOperators,
    agentOperatorDevices: tables.agentOperatorDevices,
    agentLocationChecks: tables.agentLocationChecks,
    agentShifts: tables.agentShifts,
    agentAlerts: tables.agentAlerts,
    agentWithdrawalCodes: tables.agentWithdrawalCodes,
    agentCashOutRequests: tables.agentCashOutRequests,
    agentUsage: tables.agentUsage,
    agentFloatDeposits: tables.agentFloatDeposits,
    agentCommissionPlans: tables.agentCommissionPlans,
    agentCommissions: tables.agentCommissions,
    agentCommissionPayouts: tables.agentCommissionPayouts,
    agentCashMovements: tables.agentCashMovements,
  },
  transactionTypes: AGENT_TRANSACTION_TYPES,
  permissions: [
    // Staff (back office).
    {
      code: 'agent:read',
      description: 'Read agents, stores, operators, float positions, alerts and performance',
    },
    { code: 'agent:manage', description: 'Create and update agents, stores and operators; edit geofences' },
    { code: 'agent:suspend', description: 'Suspend, reactivate and close agents, stores and operators' },
    { code: 'agent:float', description: 'Confirm or reject float deposits; rebalance float between agents' },
    { code: 'agent:commission', description: 'Manage commission plans and run commission payouts' },
    // Agent operators (granted by role to the agent_operator principal, never to staff roles).
    { code: 'agent_op:transact', description: 'Agent operator: cash-in, cash-out, check-in and check-out' },
    { code: 'agent_op:read', description: 'Agent operator: own store, float and transactions' },
    {
      code: 'agent_op:admin',
      description: 'Agent admin: the agent’s stores, operators and float rebalancing',
    },
    // area: permissions
  ],
  publishes: agentsTopics,
  create: (ctx): AgentsApi => {
    // area: network (create)
    const { network, scopes } = buildNetwork(ctx);
    ctx.use(customersModule).customers.addErasureCheck(agentErasureObligations);
    // area: auth (create)
    // area: geo (create)
    const { geo, shifts } = buildGeo(ctx, network, scopes);
    // area: commissions (create)
    const { commissions, performance } = buildCommissions(ctx);
    // area: registration (create)
    const registrations = new AgentRegistrations({
      onboarding: ctx.use(onboardingModule),
      scopes,
      directory: network,
    });
    // area: float (create)
    // area: cash (create)
    const money = buildMoney(ctx, { directory: network, scopes, guard: geo, commissions });
    // area: network (closure sweep, over the money and commission areas)
    connectClosureSweep(ctx, network, { money, commissions });
    return {
      module: 'agents',
      // area: api (values)
      registrations,
      money,
      geo,
      shifts,
      network,
      scopes,
      commissions,
      performance,
    };
  },
  routes: (api, ctx) => [
    // area: routes (one plugin per area)
    registrationRoutes(api.registrations),
    ...moneyAreaRoutes(api),
    geoAreaRoutes(api),
    ...networkAreaRoutes(api),
    commissionAreaRoutes(api, ctx),
  ],
  // area: module fields (principalResolvers, approvalActions, jobs, subscribes, seed)
  principalResolvers: (api) => operatorResolvers(api.scopes),
  approvalActions: (api) => [...networkApprovalActions(api.network)],
  jobs: (api) => [...commissionJobs(api.commissions)],
  subscribes: (api) => [...commissionSubscriptions(api.commissions)],
  seed: async ({ deps }) => {
    await seedCommissionArea(deps.database.db);
  },
});
