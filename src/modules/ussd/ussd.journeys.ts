/** Every USSD journey the engine runs, by id (one line each: the journey files are `ussd.journey.<id>.ts`). */
import { homeJourney } from './ussd.journey.home.ts';
import { languageJourney } from './ussd.journey.language.ts';
import { optoutJourney } from './ussd.journey.optout.ts';
import { pinChangeJourney } from './ussd.journey.pin_change.ts';
import type { Journey } from './ussd.menu.ts';
import type { UssdServices } from './ussd.ports.ts';

export const JOURNEYS: readonly Journey<UssdServices>[] = [
  // journeys: one entry per line
  homeJourney,
  pinChangeJourney,
  languageJourney,
  optoutJourney,
];
