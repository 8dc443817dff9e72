/** Every USSD journey the engine runs, by id (one line each: the journey files are `ussd.journey.<id>.ts`). */
import { agentJourney } from './ussd.agent.journey.ts';
import { airtimeJourney } from './ussd.journey.airtime.ts';
import { balanceJourney } from './ussd.journey.balance.ts';
import { billJourney } from './ussd.journey.bill.ts';
import { homeJourney } from './ussd.journey.home.ts';
import { languageJourney } from './ussd.journey.language.ts';
import { loansJourney } from './ussd.journey.loans.ts';
import { merchantJourney } from './ussd.journey.merchant.ts';
import { optoutJourney } from './ussd.journey.optout.ts';
import { pinChangeJourney } from './ussd.journey.pin_change.ts';
import { registerJourney } from './ussd.journey.register.ts';
import { sendJourney } from './ussd.journey.send.ts';
import { statementJourney } from './ussd.journey.statement.ts';
import type { Journey } from './ussd.menu.ts';
import type { UssdServices } from './ussd.ports.ts';

export const JOURNEYS: readonly Journey<UssdServices>[] = [
  // journeys: one entry per line
  statementJourney,
  airtimeJourney,
  merchantJourney,
  billJourney,
  sendJourney,
  balanceJourney,
  registerJourney,
  homeJourney,
  pinChangeJourney,
  languageJourney,
  optoutJourney,
  loansJourney,
  agentJourney,
];
