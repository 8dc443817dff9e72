/** Schemas of the AML realtime routes: rules (`/api/v1/aml/rules`) and held payments (`/api/v1/aml/held`). */
import { Type } from 'typebox';
import { TransactionViewSchema } from '../transactions/index.ts';
import { RuleDefinition } from './aml.rules.ts';

const Uuid = Type.String({ format: 'uuid' });
const Timestamp = Type.String({ format: 'date-time' });
const Kind = Type.Union([Type.Literal('realtime'), Type.Literal('scenario')]);
const Mode = Type.Union([Type.Literal('active'), Type.Literal('test'), Type.Literal('disabled')], {
  description: 'active acts; test only records what it would have done; disabled is skipped',
});
const Action = Type.Union([Type.Literal('block'), Type.Literal('review'), Type.Literal('alert')], {
  description: 'What firing asks for; the strongest active action wins: block > review > alert',
});
const Priority = Type.Union(
  [Type.Literal('low'), Type.Literal('medium'), Type.Literal('high'), Type.Literal('critical')],
  { description: 'Priority of the alert the rule raises' },
);
const Name = Type.String({ minLength: 1, maxLength: 120 });
const Description = Type.String({ maxLength: 1000 });

export const RuleCodeParams = Type.Object({ code: Type.String({ pattern: '^[a-z][a-z0-9_]{2,63}$' }) });

export const RuleListQuery = Type.Object({ kind: Type.Optional(Kind), mode: Type.Optional(Mode) });

export const RuleCreateBody = Type.Object(
  {
    code: Type.String({ pattern: '^[a-z][a-z0-9_]{2,63}$', description: 'Stable across versions' }),
    kind: Kind,
    name: Name,
    description: Type.Optional(Description),
    mode: Mode,
    action: Action,
    priority: Priority,
    definition: RuleDefinition,
  },
  {
    additionalProperties: false,
    examples: [
      {
        code: 'rt_cash_out_burst',
        kind: 'realtime',
        name: 'Cash-out burst',
        mode: 'test',
        action: 'review',
        priority: 'high',
        definition: {
          conditions: [
            { field: 'type', in: ['cash_out'] },
            { field: 'aggregate', subject: 'customer', measure: 'count', window: '1h', op: 'gte', value: 5 },
          ],
        },
      },
    ],
  },
);

export const RuleChangeBody = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(Description),
    mode: Type.Optional(Mode),
    action: Type.Optional(Action),
    priority: Type.Optional(Priority),
    definition: Type.Optional(RuleDefinition),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const RuleModeBody = Type.Object({ mode: Mode }, { additionalProperties: false });

export const RuleView = Type.Object({
  id: Uuid,
  code: Type.String(),
  version: Type.Integer(),
  kind: Kind,
  name: Type.String(),
  description: Type.String(),
  mode: Mode,
  action: Action,
  priority: Priority,
  definition: Type.Record(Type.String(), Type.Unknown()),
  created_by: Type.Union([Uuid, Type.Null()]),
  created_at: Timestamp,
  superseded_at: Type.Union([Timestamp, Type.Null()]),
});

export const RuleList = Type.Object({ items: Type.Array(RuleView) });

export const RuleWithVersions = Type.Intersect([
  RuleView,
  Type.Object({ versions: Type.Array(RuleView, { description: 'Every version, newest first' }) }),
]);

const Fired = Type.Object({
  code: Type.String(),
  version: Type.Integer(),
  mode: Mode,
  action: Action,
  detail: Type.Record(Type.String(), Type.Unknown(), { description: 'What the rule saw' }),
});

export const HeldView = Type.Object({
  transaction_id: Uuid,
  reference: Type.String(),
  customer_id: Type.Union([Uuid, Type.Null()]),
  type: Type.String(),
  channel: Type.String(),
  amount: Type.String({ description: 'Minor units as a decimal string' }),
  currency: Type.String(),
  fired: Type.Array(Fired, { description: 'The rules that fired (test-mode ones too), with their versions' }),
  aggregates_unavailable: Type.Boolean(),
  review_due_at: Type.Union([Timestamp, Type.Null()]),
  overdue: Type.Boolean(),
  resolution: Type.Union([
    Type.Literal('released'),
    Type.Literal('rejected'),
    Type.Literal('expired'),
    Type.Null(),
  ]),
  resolved_by: Type.Union([Uuid, Type.Null()]),
  resolved_at: Type.Union([Timestamp, Type.Null()]),
  decided_at: Timestamp,
});

export const HeldListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
});

export const HeldPage = Type.Object({
  items: Type.Array(HeldView),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});

export const HeldParams = Type.Object({ transactionId: Uuid });

export const RejectBody = Type.Object(
  { reason: Type.String({ minLength: 3, maxLength: 1000, description: 'Why (kept in the audit trail)' }) },
  { additionalProperties: false },
);

export const HeldResolution = Type.Object({
  decision: HeldView,
  transaction: TransactionViewSchema,
});
