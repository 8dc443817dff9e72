/** The topics the AML module publishes (docs/events.md is generated from them). Each area adds its own list. */
import type { Topic } from '../../platform/events.ts';
import { casesTopics } from './aml.cases.events.ts';
import { realtimeTopics } from './aml.realtime.events.ts';
import { reportsTopics } from './aml.reports.events.ts';
import { riskTopics } from './aml.risk.events.ts';
import { scenariosTopics } from './aml.scenarios.events.ts';
import { screeningTopics } from './aml.screening.events.ts';

export const amlTopics: Topic[] = [
  ...casesTopics,
  ...reportsTopics,
  ...riskTopics,
  ...screeningTopics,
  ...realtimeTopics,
  ...scenariosTopics,
];
