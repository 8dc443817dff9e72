/** The topics the AML risk area publishes (joined in aml.events.ts; docs/events.md is generated from them). */
import { Type } from 'typebox';
import { defineTopic, type Topic } from '../../platform/events.ts';

const Band = Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]);

export const riskBandChanged = defineTopic(
  'aml.risk_band_changed',
  1,
  Type.Object(
    {
      customer_id: Type.String(),
      old_band: Type.Union([Band, Type.Null()], { description: 'Null on the customer’s first rating.' }),
      new_band: Band,
      score: Type.Number({ minimum: 0, maximum: 100 }),
      trigger: Type.String({
        description: 'Why the rating was computed (an event name, nightly, a staff request).',
      }),
    },
    { additionalProperties: false },
  ),
  'A customer’s AML risk band changed (or was first set). AML-internal: consumers must not show it to the ' +
    'customer (tipping-off). Becoming high starts enhanced due diligence (a `risk_high` alert).',
);

export const riskTopics: Topic[] = [riskBandChanged];
