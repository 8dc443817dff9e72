/** Schemas of `/api/v1/notify`: sending, messages, templates, the in-app inbox, preferences. */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';
import {
  NOTIFICATION_CATEGORIES,
  NOTIFICATION_CHANNELS,
  NOTIFICATION_STATUSES,
} from './notifications.tables.ts';

const NullableString = Type.Union([Type.String(), Type.Null()]);
const NullableTime = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);
const Channel = Type.Enum(NOTIFICATION_CHANNELS);
const Language = Type.String({ pattern: '^[a-z]{2}$', description: 'ISO 639-1 code (en, fr, sw, …)' });
const TemplateCode = Type.String({ pattern: '^[a-z][a-z0-9_.-]{1,63}$', description: 'e.g. transfer.sent' });
const VariableName = Type.String({ pattern: '^[a-z][a-z0-9_]{0,63}$' });

export const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });

export const SendBody = Type.Object(
  {
    recipient_type: Type.Enum(['customer', 'user']),
    recipient_id: Type.String({ format: 'uuid' }),
    template: TemplateCode,
    channels: Type.Optional(
      Type.Array(Channel, {
        minItems: 1,
        maxItems: 4,
        uniqueItems: true,
        description: 'Default: every channel of the template',
      }),
    ),
    variables: Type.Record(VariableName, Type.String({ maxLength: 1000 }), {
      maxProperties: 32,
      description: 'Exactly the variables the template declares',
    }),
    language: Type.Optional(Language),
  },
  { additionalProperties: false },
);

export const QueuedView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  channel: Channel,
  status: Type.Enum(NOTIFICATION_STATUSES),
  address: NullableString,
  error_code: NullableString,
});

export const SendResponse = Type.Object({ notifications: Type.Array(QueuedView) });

export const NotificationView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  recipient_type: Type.Enum(['customer', 'user']),
  recipient_id: Type.String({ format: 'uuid' }),
  channel: Channel,
  category: Type.Enum(NOTIFICATION_CATEGORIES),
  template_code: Type.String(),
  template_id: Type.String({ format: 'uuid' }),
  language: Type.String(),
  address: NullableString,
  subject: NullableString,
  body: Type.String({ description: 'As sent, with secret variables masked' }),
  status: Type.Enum(NOTIFICATION_STATUSES),
  provider: NullableString,
  provider_message_id: NullableString,
  provider_status: NullableString,
  segments: Type.Union([Type.Integer(), Type.Null()]),
  attempts: Type.Integer(),
  next_attempt_at: NullableTime,
  error_code: NullableString,
  error: NullableString,
  sent_at: NullableTime,
  delivered_at: NullableTime,
  failed_at: NullableTime,
  read_at: NullableTime,
  created_at: Type.String({ format: 'date-time' }),
});

export const NotificationQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    recipient_type: Type.Optional(Type.Enum(['customer', 'user'])),
    recipient_id: Type.Optional(Type.String({ format: 'uuid' })),
    channel: Type.Optional(Channel),
    status: Type.Optional(Type.Enum(NOTIFICATION_STATUSES)),
    template_code: Type.Optional(TemplateCode),
  }),
]);

export const NotificationPage = pageOf(NotificationView);

export const TemplateView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  code: Type.String(),
  channel: Channel,
  language: Type.String(),
  version: Type.Integer(),
  category: Type.Enum(NOTIFICATION_CATEGORIES),
  subject: NullableString,
  body: Type.String(),
  html_body: NullableString,
  variables: Type.Array(Type.String()),
  secret_variables: Type.Array(Type.String()),
  active: Type.Boolean(),
  created_by_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
});

const TemplateFields = {
  category: Type.Enum(NOTIFICATION_CATEGORIES),
  subject: Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()]),
  body: Type.String({ minLength: 1, maxLength: 100_000 }),
  html_body: Type.Union([Type.String({ minLength: 1, maxLength: 200_000 }), Type.Null()]),
  variables: Type.Array(VariableName, { maxItems: 32 }),
  secret_variables: Type.Array(VariableName, { maxItems: 8 }),
};

export const TemplateBody = Type.Object(
  {
    code: TemplateCode,
    channel: Channel,
    language: Language,
    ...TemplateFields,
  },
  { additionalProperties: false },
);

export const TemplateUpdateBody = Type.Object(
  {
    category: Type.Optional(TemplateFields.category),
    subject: Type.Optional(TemplateFields.subject),
    body: Type.Optional(TemplateFields.body),
    html_body: Type.Optional(TemplateFields.html_body),
    variables: Type.Optional(TemplateFields.variables),
    secret_variables: Type.Optional(TemplateFields.secret_variables),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const TemplateQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    code: Type.Optional(TemplateCode),
    channel: Type.Optional(Channel),
    language: Type.Optional(Language),
    include_retired: Type.Optional(Type.Boolean({ description: 'Also earlier and retired versions' })),
  }),
]);

export const TemplatePage = pageOf(TemplateView);

export const InboxItem = Type.Object({
  id: Type.String({ format: 'uuid' }),
  template_code: Type.String(),
  category: Type.Enum(NOTIFICATION_CATEGORIES),
  title: NullableString,
  body: Type.String(),
  data: Type.Record(Type.String(), Type.String()),
  read: Type.Boolean(),
  read_at: NullableTime,
  created_at: Type.String({ format: 'date-time' }),
});

export const InboxQuery = Type.Intersect([
  PageQuery,
  Type.Object({ unread: Type.Optional(Type.Boolean({ description: 'Only unread messages' })) }),
]);

export const InboxPage = Type.Object({
  items: Type.Array(InboxItem),
  unread: Type.Integer({ description: 'Unread messages in the whole inbox' }),
  next_cursor: NullableString,
});

export const MarkedView = Type.Object({ marked: Type.Integer() });

const Clock = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM, local time' });

export const PreferencesView = Type.Object({
  language: Type.String(),
  time_zone: Type.String(),
  quiet_hours: Type.Union([Type.Object({ start: Clock, end: Clock }), Type.Null()]),
  marketing_channels: Type.Array(Channel),
});

export const PreferencesBody = Type.Object(
  {
    language: Type.Optional(Language),
    time_zone: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'IANA zone, e.g. Africa/Nairobi' }),
    ),
    quiet_hours: Type.Optional(
      Type.Union([Type.Object({ start: Clock, end: Clock }, { additionalProperties: false }), Type.Null()], {
        description: 'Marketing waits until the end of these hours; transactional messages ignore them',
      }),
    ),
    marketing_channels: Type.Optional(
      Type.Array(Channel, {
        maxItems: 4,
        uniqueItems: true,
        description: 'Channels that may carry marketing',
      }),
    ),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const CallbackAccepted = Type.Object({ status: Type.Enum(['recorded', 'duplicate', 'ignored']) });
export const SecretParams = Type.Object({ secret: Type.String({ minLength: 1, maxLength: 100 }) });
