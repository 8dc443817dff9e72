/**
 * The topics the AML cases area publishes (joined in aml.events.ts; docs/events.md is generated from them). Ids,
 * pattern and priority only: no names, no amounts, nothing a consumer could leak to the customer.
 */
import { Type } from 'typebox';
import { defineTopic, Nullable, type Topic } from '../../platform/events.ts';
import { ALERT_PRIORITIES, ALERT_SOURCES, CASE_DECISIONS } from './aml.tables.ts';

const Priority = Type.Enum(ALERT_PRIORITIES);
const subject = {
  case_id: Type.String(),
  customer_id: Nullable(Type.String()),
  agent_id: Nullable(Type.String()),
  pattern: Type.String(),
  priority: Priority,
};

export const amlAlertRaised = defineTopic(
  'aml.alert_raised',
  1,
  Type.Object(
    {
      alert_id: Type.String(),
      source: Type.Enum(ALERT_SOURCES),
      ...subject,
    },
    { additionalProperties: false },
  ),
  'An AML alert was raised and grouped into a case (the case of its customer or agent and pattern).',
);

export const amlCaseOpened = defineTopic(
  'aml.case_opened',
  1,
  Type.Object({ ...subject, reference: Type.String() }, { additionalProperties: false }),
  'An AML case was opened for a first alert of its customer (or agent) and pattern.',
);

export const amlCaseClosed = defineTopic(
  'aml.case_closed',
  1,
  Type.Object({ ...subject, decision: Type.Enum(CASE_DECISIONS) }, { additionalProperties: false }),
  'An AML case was decided and closed (false positive, monitor, restrict or STR filed).',
);

export const amlCaseSlaBreached = defineTopic(
  'aml.case_sla_breached',
  1,
  Type.Object({ ...subject, due_at: Type.String({ format: 'date-time' }) }, { additionalProperties: false }),
  'An open AML case passed its due time (the SLA of its priority); its priority went up one step.',
);

export const casesTopics: Topic[] = [amlAlertRaised, amlCaseOpened, amlCaseClosed, amlCaseSlaBreached];
