/** The topics the AML screening area publishes (joined in aml.events.ts; docs/events.md is generated from them). */
import { Type } from 'typebox';
import { defineTopic, type Topic } from '../../platform/events.ts';

export const amlListLoaded = defineTopic(
  'aml.list_loaded',
  1,
  Type.Object(
    {
      list_id: Type.String({ format: 'uuid' }),
      source: Type.Union([Type.Literal('un'), Type.Literal('ofac'), Type.Literal('opensanctions')]),
      version: Type.Integer({ minimum: 1 }),
      entry_count: Type.Integer({ minimum: 0 }),
      added: Type.Integer({ minimum: 0 }),
      removed: Type.Integer({ minimum: 0 }),
      changed: Type.Integer({ minimum: 0 }),
    },
    { additionalProperties: false },
  ),
  'A new version of a sanctions or PEP list was loaded, with its differences from the previous version; a version ' +
    'with differences starts the rescreening of every customer.',
);

export const screeningTopics: Topic[] = [amlListLoaded];
