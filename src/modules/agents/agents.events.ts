/** The topics the agents module publishes (docs/events.md is generated from them). Areas add theirs to the list. */
import type { Topic } from '../../platform/events.ts';

export const agentsTopics: Topic[] = [
  // areas: one spread per area's topics
];
