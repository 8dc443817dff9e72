/** The topics the AML scenarios area publishes (joined in aml.events.ts; docs/events.md is generated from them). */
import type { Topic } from '../../platform/events.ts';

export const scenariosTopics: Topic[] = [];
