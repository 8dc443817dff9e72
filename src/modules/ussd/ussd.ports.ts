/**
 * What the journeys may call in other modules: one port per area, each defined and implemented in its own file
 * (`ussd.account.ts`, `ussd.money.ts`, `ussd.loans.ts`, `ussd.registration.ts`, `ussd.agent.ts`) from the other modules' exported APIs.
 * Journeys reach them as `ctx.services.<area>`.
 */
import type { AccountPort } from './ussd.account.ts';
import type { AgentPort } from './ussd.agent.ts';
import type { LoansPort } from './ussd.loans.ts';
import type { MoneyPort } from './ussd.money.ts';
import type { RegistrationPort } from './ussd.registration.ts';

export interface UssdServices {
  account: AccountPort;
  money: MoneyPort;
  loans: LoansPort;
  registration: RegistrationPort;
  agent: AgentPort;
}
