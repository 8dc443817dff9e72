/** The topics the AML risk area publishes (joined in aml.events.ts; docs/events.md is generated from them). */
import type { Topic } from '../../platform/events.ts';

export const riskTopics: Topic[] = [];
