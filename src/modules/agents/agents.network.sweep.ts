/**
 * An agent's closure sweep (`POST /api/v1/agent/agent/{id}/close` with `sweep: true`): before the close, (1) every
 * store float with a balance moves to the agent's float, (2) the commission payable is paid out by the commission
 * area's payout for this agent (to wherever its plan pays: the float, then step 3 moves it on, or the owner's wallet),
 * (3) the agent's float moves to the owner's customer wallet in the agent's currency. Each movement is its own engine
 * commit keyed by the agent (and store): a retry after a crash moves only what is still there.
 */
import type { RequestContext } from '../../platform/audit.ts';
import type { WalletsService } from '../wallets/index.ts';
import type { CommissionService } from './agents.commissions.ts';
import { agentsErrors } from './agents.errors.ts';
import type { AgentFloat } from './agents.float.ts';
import type { ClosureSweeper } from './agents.network.ts';
import type { AgentRow, StoreRow } from './agents.ports.ts';

export class AgentClosureSweep implements ClosureSweeper {
  readonly #float: AgentFloat;
  readonly #commissions: CommissionService;
  readonly #wallets: Pick<WalletsService, 'findCustomerWallet'>;

  constructor(options: {
    float: AgentFloat;
    commissions: CommissionService;
    wallets: Pick<WalletsService, 'findCustomerWallet'>;
  }) {
    this.#float = options.float;
    this.#commissions = options.commissions;
    this.#wallets = options.wallets;
  }

  async sweep(agent: AgentRow, stores: StoreRow[], context: RequestContext): Promise<void> {
    // Refused before anything moves: the owner must have a wallet to receive the float.
    const wallet = await this.#wallets.findCustomerWallet(agent.ownerCustomerId, agent.currency);
    if (!wallet)
      throw agentsErrors.AGENT_SWEEP_NO_WALLET({
        params: { currency: agent.currency },
        details: { currency: agent.currency },
      });
    const agentFloat = { kind: 'account' as const, accountId: agent.floatAccountId };
    for (const store of stores)
      await this.#float.sweep(
        { agent, store, accountId: store.floatAccountId },
        agentFloat,
        `agent-close:${agent.id}:store:${store.id}`,
        context,
      );
    // Pays what accrued (idempotent per agent: paid accruals are not paid again).
    await this.#commissions.payout({ agent_id: agent.id }, context);
    await this.#float.sweep(
      { agent, store: null, accountId: agent.floatAccountId },
      { kind: 'wallet', walletId: wallet.id },
      `agent-close:${agent.id}:agent`,
      context,
    );
  }
}
