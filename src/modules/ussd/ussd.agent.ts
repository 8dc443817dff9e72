/**
 * The agent port: what the USSD agent menu asks of the agents module, as the customer (channel `ussd`), through the
 * functions the agents module exports on its api (`money.withdrawalCodes`, `money.pendingCashOuts`,
 * `money.approveCashOut`, `network.agent`). Two journeys use it: a withdrawal code for a cash-out at an agent (agent
 * number, amount, PIN: the 6-digit code and its expiry), and the customer's approval with PIN of a cash-out an
 * operator started at a store. The one-time-code threshold is checked before any PIN (USSD takes no one-time code);
 * the approval runs under the step's idempotency claim, so a gateway delivering the step again pays out once.
 */
import type { RequestContext } from '../../platform/audit.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { AppError } from '../../platform/errors.ts';
import type { ModuleContext } from '../../platform/modules.ts';
import { formatMoney } from '../../platform/money.ts';
import { type AgentsApi, agentsModule } from '../agents/index.ts';
import { type AgentPinAnswer, type OnboardingApi, onboardingModule } from '../onboarding/index.ts';
import { type SettingsService, settingsModule } from '../settings/index.ts';
import { ussdRequestContext } from './ussd.claims.ts';
import { type MoneyOutcome, runClaimed } from './ussd.money.claims.ts';
import { refusalOf } from './ussd.money.quotes.ts';
import type { MoneyCall } from './ussd.money.ts';

export type AgentRefusal = { kind: 'refused'; code: string; details: Record<string, unknown> };

export type WithdrawalCodeOutcome =
  | {
      kind: 'issued';
      /** The 6 digits, shown once on the last screen (the agents module keeps only their keyed hash). */
      code: string;
      agentNumber: string;
      amount: bigint;
      currency: string;
      expiresAt: Date;
    }
  | AgentRefusal;

/** An operator's cash-out waiting for this customer's approval. */
export interface PendingAgentCashOut {
  id: string;
  agentName: string;
  amount: bigint;
  currency: string;
}

export interface AgentPort {
  /**
   * The one-time-code threshold as the customer reads it ("KES 50,000.00") when `amount` is at or above it (a code
   * USSD cannot take: the customer uses the app), else null.
   */
  needsApp(amount: bigint, currency: string): Promise<string | null>;
  /** A withdrawal code bound to the agent number, the amount and the customer (PIN checked with the app's counters). */
  withdrawalCode(
    call: MoneyCall,
    input: { agentNumber: string; amount: bigint; currency: string; pin: string },
  ): Promise<WithdrawalCodeOutcome>;
  /** The customer's pending operator-started cash-outs, newest first, with the agent's business name. */
  pendingCashOuts(customerId: string): Promise<PendingAgentCashOut[]>;
  /** Approves one with the PIN: the cash-out posts (wallet pays amount and fee, the store's float gets the amount). */
  approveCashOut(call: MoneyCall, cashOutId: string, pin: string): Promise<MoneyOutcome>;
  /** Whether an agent registered this number and waits for the customer's terms and PIN (the register journey asks). */
  registrationAwaitingPin(msisdn: string): Promise<boolean>;
  /** The customer accepted the terms and set the PIN on their own phone: the registration completes (or goes to review). */
  completeRegistration(msisdn: string, pin: string, context: RequestContext): Promise<AgentPinAnswer>;
}

/** `A1234567` from what a handset types: the 7 digits, with or without the A. Null when it is not one. */
export function agentNumberOf(typed: string): string | null {
  const match = /^[Aa]?([0-9]{7})$/.exec(typed.trim());
  return match ? `A${match[1]}` : null;
}

export class UssdAgents implements AgentPort {
  readonly #agents: AgentsApi;
  readonly #settings: SettingsService;
  readonly #deps: Dependencies;
  readonly #onboarding: OnboardingApi;

  constructor(options: {
    agents: AgentsApi;
    settings: SettingsService;
    deps: Dependencies;
    onboarding: OnboardingApi;
  }) {
    this.#agents = options.agents;
    this.#onboarding = options.onboarding;
    this.#settings = options.settings;
    this.#deps = options.deps;
  }

  async needsApp(amount: bigint, currency: string): Promise<string | null> {
    const thresholds = await this.#settings.get('payments.otp_threshold_minor');
    const threshold = thresholds[currency];
    return threshold !== undefined && amount >= BigInt(threshold)
      ? formatMoney(BigInt(threshold), currency)
      : null;
  }

  async withdrawalCode(
    call: MoneyCall,
    input: { agentNumber: string; amount: bigint; currency: string; pin: string },
  ): Promise<WithdrawalCodeOutcome> {
    const threshold = await this.needsApp(input.amount, input.currency);
    if (threshold)
      return {
        kind: 'refused',
        code: 'USSD_AMOUNT_NEEDS_APP',
        details: { threshold, currency: input.currency },
      };
    try {
      const made = await this.#agents.money.withdrawalCodes.create(
        call.customerId,
        {
          agent_number: input.agentNumber,
          amount: Number(input.amount),
          currency: input.currency,
          pin: input.pin,
        },
        'ussd',
      );
      return {
        kind: 'issued',
        code: made.code,
        agentNumber: made.agent_number,
        amount: BigInt(made.amount),
        currency: made.currency,
        expiresAt: new Date(made.expires_at),
      };
    } catch (error) {
      return refusalOf(error);
    }
  }

  async pendingCashOuts(customerId: string): Promise<PendingAgentCashOut[]> {
    const { items } = await this.#agents.money.pendingCashOuts(customerId);
    const names = new Map<string, string>();
    const pending: PendingAgentCashOut[] = [];
    for (const item of items) {
      let name = names.get(item.agent_id);
      if (name === undefined) {
        name = await this.#agents.network.agent(item.agent_id).then(
          (agent) => agent.businessName,
          (error: unknown) => {
            if (error instanceof AppError) return '';
            throw error;
          },
        );
        names.set(item.agent_id, name);
      }
      pending.push({ id: item.id, agentName: name, amount: BigInt(item.amount), currency: item.currency });
    }
    return pending;
  }

  approveCashOut(call: MoneyCall, cashOutId: string, pin: string): Promise<MoneyOutcome> {
    return runClaimed(
      this.#deps.idempotency,
      {
        customerId: call.customerId,
        key: call.idempotencyKey,
        action: 'ussd.agent_cash_out_approve',
        request: { cash_out_id: cashOutId },
        context: ussdRequestContext(call.customerId, call),
      },
      () => this.#agents.money.approveCashOut(call.customerId, cashOutId, pin),
    );
  }

  async registrationAwaitingPin(msisdn: string): Promise<boolean> {
    return (await this.#onboarding.agent.awaitingPin(msisdn)) !== null;
  }

  completeRegistration(msisdn: string, pin: string, context: RequestContext): Promise<AgentPinAnswer> {
    return this.#onboarding.agent.completeFromUssd(msisdn, pin, context);
  }
}

export function createUssdAgents(ctx: ModuleContext): UssdAgents {
  return new UssdAgents({
    agents: ctx.use(agentsModule),
    settings: ctx.use(settingsModule),
    deps: ctx.deps,
    onboarding: ctx.use(onboardingModule),
  });
}
