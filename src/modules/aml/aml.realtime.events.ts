/** The topics the AML realtime area publishes (joined in aml.events.ts; docs/events.md is generated from them). */
import type { Topic } from '../../platform/events.ts';

export const realtimeTopics: Topic[] = [];
