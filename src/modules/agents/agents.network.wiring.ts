/**
 * Builds the network and auth areas (the AgentDirectory, the operator sign-in and OperatorScopes) from the modules
 * they use, and declares their routes, the `agent.activate` maker-checker action and the `agent_operator` principal
 * resolver. index.ts calls these between its `area: network` / `area: auth` markers.
 */
import { approvalAction, type ModuleContext } from '../../platform/modules.ts';
import { approvalsModule } from '../approvals/index.ts';
import { identityModule, publishPrincipalChange } from '../identity/index.ts';
import { ledgerModule } from '../ledger/index.ts';
import { walletsModule } from '../wallets/index.ts';
import { agentAuthRoutes } from './agents.auth.routes.ts';
import { AgentAuth } from './agents.auth.ts';
import type { MoneyArea } from './agents.cash.wiring.ts';
import type { CommissionService } from './agents.commissions.ts';
import { agentNetworkRoutes } from './agents.network.routes.ts';
import { AgentClosureSweep } from './agents.network.sweep.ts';
import { ACTIVATE_AGENT_ACTION, type ActivatePayload, AgentNetwork } from './agents.network.ts';

export function buildNetwork(ctx: ModuleContext): { network: AgentNetwork; scopes: AgentAuth } {
  const { deps } = ctx;
  const scopes = new AgentAuth({
    db: deps.database.db,
    store: deps.store,
    pepper: deps.config.HMAC_PEPPER,
    keys: deps.keys,
    identity: ctx.use(identityModule),
  });
  const network = new AgentNetwork({
    db: deps.database.db,
    ledger: ctx.use(ledgerModule),
    approvals: ctx.use(approvalsModule),
    pepper: deps.config.HMAC_PEPPER,
    passwordPolicy: {
      minLength: deps.config.PASSWORD_MIN_LENGTH,
      maxLength: deps.config.PASSWORD_MAX_LENGTH,
      minScore: deps.config.PASSWORD_MIN_SCORE,
      requireComplexity: false,
    },
    onPinReset: (operatorId) => scopes.clearFailures(operatorId),
    // An agent's, store's or operator's standing is every operator's under it: all are dropped from every node's cache.
    onStandingChanged: () => publishPrincipalChange(deps.store, { type: 'agent_operator' }),
  });
  return { network, scopes };
}

/** The closure sweep (`close` with `sweep: true`) over the float and commission areas, once they are built. */
export function connectClosureSweep(
  ctx: ModuleContext,
  network: AgentNetwork,
  areas: { money: MoneyArea; commissions: CommissionService },
): void {
  network.connectSweeper(
    new AgentClosureSweep({
      float: areas.money.float,
      commissions: areas.commissions,
      wallets: ctx.use(walletsModule),
    }),
  );
}

export function networkAreaRoutes(api: { network: AgentNetwork; scopes: AgentAuth }) {
  return [agentNetworkRoutes(api.network, api.scopes), agentAuthRoutes(api.scopes)];
}

/** `agent.activate`: a pending agent becomes active when a second staff member approves (always maker-checker). */
export function networkApprovalActions(network: AgentNetwork) {
  return [
    approvalAction<ActivatePayload>({
      name: ACTIVATE_AGENT_ACTION,
      description: 'Activate a pending agent (onboarding maker-checker)',
      permission: 'agent:manage',
      always: true,
      dedupeKey: (payload) => payload.agent_id,
      execute: (payload, context) => network.executeActivation(payload, context),
    }),
  ];
}

/** The `agent_operator` principal: active only while the operator, its store, agent and super-agent are. */
export function operatorResolvers(scopes: AgentAuth) {
  return { agent_operator: (id: string) => scopes.resolve(id) };
}
