/** TypeBox schemas of the case routes (`/api/v1/aml/cases/...`). */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';
import { ALERT_PRIORITIES, ALERT_SOURCES, CASE_DECISIONS, CASE_STATES, RISK_BANDS } from './aml.tables.ts';

const Uuid = Type.String({ format: 'uuid' });
const DateTime = Type.String({ format: 'date-time' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

const Priority = Type.Enum(ALERT_PRIORITIES);
const State = Type.Enum(CASE_STATES);
const Decision = Type.Enum(CASE_DECISIONS);

export const CaseIdParams = Type.Object({ id: Uuid });

export const CaseListQuery = Type.Object({
  ...PageQuery.properties,
  state: Type.Optional(State),
  priority: Type.Optional(Priority),
  assignee_id: Type.Optional(Uuid),
  customer_id: Type.Optional(Uuid),
  agent_id: Type.Optional(Uuid),
  breached: Type.Optional(
    Type.Boolean({ description: 'Only cases past their SLA (true) or within it (false)' }),
  ),
  include_snoozed: Type.Optional(
    Type.Boolean({ description: 'Also cases whose snooze is still running (left out by default)' }),
  ),
});

export const CaseView = Type.Object({
  id: Uuid,
  reference: Type.String({ description: 'AML-<year>-<6 digits>' }),
  customer_id: Nullable(Uuid),
  agent_id: Nullable(Uuid),
  pattern: Type.String({ description: 'The rule, scenario or screening pattern its alerts share' }),
  priority: Priority,
  state: State,
  assignee_id: Nullable(Uuid),
  snoozed_until: Nullable(DateTime),
  decision: Nullable(Decision),
  risk_band: Nullable(Type.Enum(RISK_BANDS)),
  due_at: DateTime,
  breached_at: Nullable(DateTime),
  pending_close_by: Nullable(
    Type.String({ description: 'The analyst who proposed a four-eyes false positive' }),
  ),
  closed_by: Nullable(Uuid),
  closed_at: Nullable(DateTime),
  created_at: DateTime,
  updated_at: DateTime,
});

export const CasePage = pageOf(CaseView);

const AlertView = Type.Object({
  id: Uuid,
  case_id: Nullable(Uuid),
  customer_id: Nullable(Uuid),
  agent_id: Nullable(Uuid),
  source: Type.Enum(ALERT_SOURCES),
  pattern: Type.String(),
  rule_version: Nullable(Type.Integer()),
  priority: Priority,
  evidence: Type.Object(
    {},
    { additionalProperties: true, description: 'Transactions and the fields that fired' },
  ),
  created_at: DateTime,
});

const CaseEventView = Type.Object({
  id: Uuid,
  actor_id: Nullable(Uuid),
  action: Type.String({ description: 'opened, alert_added, claimed, assigned, note, attachment, decided …' }),
  detail: Type.Object({}, { additionalProperties: true }),
  at: DateTime,
});

export const CaseDetail = Type.Object({
  ...CaseView.properties,
  alerts: Type.Array(AlertView),
  events: Type.Array(CaseEventView, { description: 'The audit trail, oldest first' }),
});

const Reason = Type.String({ minLength: 3, maxLength: 2000 });

export const AssignBody = Type.Object({ assignee_id: Uuid }, { additionalProperties: false });
export const ReasonBody = Type.Object({ reason: Reason }, { additionalProperties: false });
export const NoteBody = Type.Object(
  { text: Type.String({ minLength: 1, maxLength: 10_000 }) },
  { additionalProperties: false },
);
export const SnoozeBody = Type.Object({ until: DateTime, reason: Reason }, { additionalProperties: false });
export const DecideBody = Type.Object(
  { decision: Decision, reason: Reason },
  { additionalProperties: false },
);
export const AttachBody = Type.Union([
  Type.Object(
    { document_id: Uuid, description: Type.Optional(Type.String({ maxLength: 500 })) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      document_type: Type.String({ minLength: 1, maxLength: 64, description: 'A documents module type' }),
      content_base64: Type.String({ minLength: 4, maxLength: 14_000_000, contentEncoding: 'base64' }),
      description: Type.Optional(Type.String({ maxLength: 500 })),
    },
    { additionalProperties: false },
  ),
]);
