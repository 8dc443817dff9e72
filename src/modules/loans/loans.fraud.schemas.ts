/** Schemas of the fraud routes: checks, rules, flags and their investigation cases, deny lists. */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';
import { DENY_KINDS, FLAG_STATES, FRAUD_RULE_CODES } from './loans.fraud.tables.ts';

const Uuid = Type.String({ format: 'uuid' });
const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableUuid = Type.Union([Uuid, Type.Null()]);
const Time = Type.String({ format: 'date-time' });
const NullableTime = Type.Union([Time, Type.Null()]);
const Evidence = Type.Record(Type.String(), Type.Unknown(), {
  description: 'What the rule found (money as decimal strings of minor units)',
});

export const FlagIdParams = Type.Object({ id: Uuid });

export const FraudCheckBody = Type.Object({ application_id: Uuid });

export const RuleResult = Type.Object({
  rule: Type.Enum(FRAUD_RULE_CODES),
  tripped: Type.Boolean(),
  weight: Type.Integer(),
  score: Type.Integer({ description: 'The weight when tripped, else 0' }),
  evidence: Evidence,
});

export const FraudCheckView = Type.Object({
  check_id: Uuid,
  application_id: Uuid,
  application_status: Type.String(),
  score: Type.Integer({ description: 'The sum of the weights of the tripped rules' }),
  threshold: Type.Integer({ description: 'The product version’s fraud_threshold' }),
  flagged: Type.Boolean(),
  flag_id: NullableUuid,
  results: Type.Array(RuleResult),
  created_at: Time,
});

export const FraudRuleView = Type.Object({
  code: Type.Enum(FRAUD_RULE_CODES),
  description: Type.String(),
  enabled: Type.Boolean(),
  weight: Type.Integer(),
  params: Type.Record(Type.String(), Type.Unknown()),
  updated_by_id: NullableString,
  updated_at: Time,
});

export const FraudRuleList = Type.Object({ items: Type.Array(FraudRuleView) });

export const FraudRuleUpdateBody = Type.Object({
  code: Type.Enum(FRAUD_RULE_CODES),
  enabled: Type.Optional(Type.Boolean()),
  weight: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
  params: Type.Optional(
    Type.Record(Type.String(), Type.Union([Type.Integer(), Type.String({ maxLength: 32 })]), {
      description:
        'Merged into the rule’s parameters: integers (counts, hours, days) and decimal strings (ratio, *_minor)',
    }),
  ),
});

const CaseView = Type.Object({
  id: Uuid,
  assignee_id: Type.String(),
  opened_by_id: Type.String(),
  created_at: Time,
  updated_at: Time,
});

export const FraudFlagView = Type.Object({
  id: Uuid,
  application_id: Uuid,
  application_number: Type.String(),
  customer_id: Uuid,
  check_id: Uuid,
  score: Type.Integer(),
  threshold: Type.Integer(),
  status: Type.Enum(FLAG_STATES),
  case: Type.Union([CaseView, Type.Null()]),
  decision_reason: NullableString,
  decided_by_id: NullableString,
  decided_at: NullableTime,
  created_at: Time,
  updated_at: Time,
});

export const FraudNoteView = Type.Object({
  id: Uuid,
  flag_id: Uuid,
  author_type: Type.String(),
  author_id: NullableString,
  note: Type.String(),
  evidence: Type.Union([Evidence, Type.Null()]),
  created_at: Time,
});

export const FraudFlagDetail = Type.Intersect([
  FraudFlagView,
  Type.Object({
    application_status: Type.String(),
    results: Type.Array(RuleResult),
    notes: Type.Array(FraudNoteView),
  }),
]);

export const FraudFlagPage = pageOf(FraudFlagView);

export const FraudFlagQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    status: Type.Optional(Type.Enum(FLAG_STATES)),
    application_id: Type.Optional(Uuid),
  }),
]);

const NoteText = Type.String({ minLength: 1, maxLength: 4000 });
const NoteEvidence = Type.Record(Type.String(), Type.Unknown(), {
  description: 'Structured evidence (document ids, call records, …)',
});

export const EscalateBody = Type.Object({
  flag_id: Uuid,
  assignee_id: Type.String({ format: 'uuid', description: 'The staff user who investigates' }),
  note: Type.Optional(NoteText),
  evidence: Type.Optional(NoteEvidence),
});

export const NoteBody = Type.Object({ flag_id: Uuid, note: NoteText, evidence: Type.Optional(NoteEvidence) });

export const DecideBody = Type.Object({
  flag_id: Uuid,
  decision: Type.Enum(['clear', 'confirm'], {
    description: '`confirm` declines the application; `clear` sends it on to scoring',
  }),
  reason: Type.String({ minLength: 3, maxLength: 2000 }),
  add_to_deny_list: Type.Optional(
    Type.Boolean({ description: 'With confirm: deny-list the application’s national ID, phone and device' }),
  ),
});

export const DenyEntryView = Type.Object({
  id: Uuid,
  kind: Type.Enum(DENY_KINDS),
  value: Type.String({ description: 'The national ID’s blind index, an E.164 phone or a device id' }),
  reason: Type.String(),
  case_id: NullableUuid,
  added_by_id: NullableString,
  created_at: Time,
});

export const DecideResult = Type.Intersect([
  FraudFlagDetail,
  Type.Object({ deny_listed: Type.Array(DenyEntryView, { description: 'Entries this decision added' }) }),
]);

export const DenyPage = pageOf(DenyEntryView);

export const DenyQuery = Type.Intersect([
  PageQuery,
  Type.Object({ kind: Type.Optional(Type.Enum(DENY_KINDS)) }),
]);

export const DenyAddBody = Type.Object({
  kind: Type.Enum(DENY_KINDS),
  value: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
  customer_id: Type.Optional(
    Type.String({
      format: 'uuid',
      description: 'national_id_index only: the customer whose ID to deny-list',
    }),
  ),
  reason: Type.String({ minLength: 3, maxLength: 2000 }),
});

export const DenyRemoveBody = Type.Object({ id: Uuid });
