/** TypeBox schemas of the network routes (`/api/v1/agent/agent|store|operator/...`, `/api/v1/agent/admin/...`). */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';
import {
  AGENT_KINDS,
  AGENT_STATUSES,
  GEOFENCE_POLICIES,
  OPERATOR_ROLES,
  OPERATOR_STATUSES,
  STORE_STATUSES,
} from './agents.tables.ts';

const Uuid = Type.String({ format: 'uuid' });
const Minor = Type.String({ pattern: '^[0-9]{1,18}$', description: 'Minor units, decimal string' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const IdParams = Type.Object({ id: Uuid });
export const DeviceParams = Type.Object({
  id: Uuid,
  device_id: Type.String({ minLength: 1, maxLength: 128 }),
});

export const AgentLimitsSchema = Type.Object(
  {
    single_minor: Type.Optional(Minor),
    daily_minor: Type.Optional(Minor),
    float_max_minor: Type.Optional(Minor),
    rebalance_single_minor: Type.Optional(Minor),
  },
  { additionalProperties: false, description: 'Agent-level limits; an absent one means none' },
);

const Lat = Type.Number({ minimum: -90, maximum: 90 });
const Lon = Type.Number({ minimum: -180, maximum: 180 });
const Point = Type.Object({ lat: Lat, lon: Lon }, { additionalProperties: false });

export const GeofenceSchema = Type.Union(
  [
    Type.Object(
      {
        type: Type.Literal('circle'),
        center: Point,
        radius_m: Type.Number({
          exclusiveMinimum: 0,
          maximum: 50_000,
          description: 'Metres, above 0, at most 50 km',
        }),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      { type: Type.Literal('polygon'), vertices: Type.Array(Point, { minItems: 3, maxItems: 50 }) },
      { additionalProperties: false },
    ),
  ],
  { description: 'A circle around a point, or a polygon of 3 to 50 vertices (WGS84)' },
);

/** `["08:00", "18:00"]`: opening and closing time (a pair: OpenAPI 3.1 has no tuple that every client reads). */
const HoursRange = Type.Array(
  Type.String({ pattern: '^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$', examples: ['08:00'] }),
  {
    minItems: 2,
    maxItems: 2,
  },
);
export const OpeningHoursSchema = Type.Object(
  {
    '1': Type.Optional(Type.Array(HoursRange, { maxItems: 4 })),
    '2': Type.Optional(Type.Array(HoursRange, { maxItems: 4 })),
    '3': Type.Optional(Type.Array(HoursRange, { maxItems: 4 })),
    '4': Type.Optional(Type.Array(HoursRange, { maxItems: 4 })),
    '5': Type.Optional(Type.Array(HoursRange, { maxItems: 4 })),
    '6': Type.Optional(Type.Array(HoursRange, { maxItems: 4 })),
    '7': Type.Optional(Type.Array(HoursRange, { maxItems: 4 })),
  },
  {
    additionalProperties: false,
    description: 'By ISO weekday (1 = Monday): [["08:00", "18:00"]]; a missing day is closed',
  },
);

export const AgentView = Type.Object({
  id: Uuid,
  agent_number: Type.String(),
  kind: Type.Enum(AGENT_KINDS),
  parent_id: Nullable(Uuid),
  business_name: Type.String(),
  registration_number: Type.String(),
  business_tier: Type.String(),
  owner_customer_id: Uuid,
  phone: Type.String(),
  email: Nullable(Type.String()),
  currency: Type.String(),
  status: Type.Enum(AGENT_STATUSES),
  status_reason: Nullable(Type.String()),
  geofence_policy: Type.Enum(GEOFENCE_POLICIES),
  limits: AgentLimitsSchema,
  float_account_id: Uuid,
  commission_account_id: Uuid,
  commission_plan_id: Nullable(Uuid),
  created_by: Nullable(Uuid),
  approved_by: Nullable(Uuid),
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export const AgentPage = pageOf(AgentView);

export const AgentAddBody = Type.Object(
  {
    kind: Type.Enum(AGENT_KINDS),
    parent_id: Type.Optional(Nullable(Uuid)),
    business_name: Type.String({ minLength: 2, maxLength: 200 }),
    registration_number: Type.String({ minLength: 2, maxLength: 64 }),
    business_tier: Type.String({ minLength: 1, maxLength: 32 }),
    owner_customer_id: Uuid,
    phone: Type.String({ minLength: 4, maxLength: 32 }),
    email: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254 }))),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
    geofence_policy: Type.Optional(Type.Enum(GEOFENCE_POLICIES)),
    limits: Type.Optional(AgentLimitsSchema),
    commission_plan_id: Type.Optional(Nullable(Uuid)),
  },
  { additionalProperties: false },
);

export const AgentUpdateBody = Type.Object(
  {
    business_name: Type.Optional(Type.String({ minLength: 2, maxLength: 200 })),
    phone: Type.Optional(Type.String({ minLength: 4, maxLength: 32 })),
    email: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254 }))),
    geofence_policy: Type.Optional(Type.Enum(GEOFENCE_POLICIES)),
    limits: Type.Optional(AgentLimitsSchema),
    commission_plan_id: Type.Optional(Nullable(Uuid)),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const AgentListQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    kind: Type.Optional(Type.Enum(AGENT_KINDS)),
    status: Type.Optional(Type.Enum(AGENT_STATUSES)),
    parent_id: Type.Optional(Uuid),
  }),
]);

export const ReasonBody = Type.Object(
  { reason: Type.String({ minLength: 3, maxLength: 500 }) },
  { additionalProperties: false },
);
export const CloseBody = Type.Object(
  {
    reason: Type.String({ minLength: 3, maxLength: 500 }),
    sweep: Type.Optional(
      Type.Boolean({
        default: false,
        description:
          'Before closing, move every store float to the agent, pay the commission payable out, and move the ' +
          'agent float to the owner’s customer wallet (each an engine movement, idempotent on retry).',
      }),
    ),
  },
  { additionalProperties: false },
);

export const StoreView = Type.Object({
  id: Uuid,
  agent_id: Uuid,
  store_number: Type.String(),
  name: Type.String(),
  address: Type.String(),
  opening_hours: OpeningHoursSchema,
  lat: Type.Number(),
  lon: Type.Number(),
  geofence: GeofenceSchema,
  status: Type.Enum(STORE_STATUSES),
  status_reason: Nullable(Type.String()),
  float_account_id: Uuid,
  created_at: Type.String({ format: 'date-time' }),
  updated_at: Type.String({ format: 'date-time' }),
});
export const StorePage = pageOf(StoreView);

export const StoreAddBody = Type.Object(
  {
    name: Type.String({ minLength: 2, maxLength: 200 }),
    address: Type.String({ minLength: 2, maxLength: 500 }),
    opening_hours: Type.Optional(OpeningHoursSchema),
    lat: Lat,
    lon: Lon,
    geofence: GeofenceSchema,
  },
  { additionalProperties: false },
);

export const StoreUpdateBody = Type.Object(
  {
    name: Type.Optional(Type.String({ minLength: 2, maxLength: 200 })),
    address: Type.Optional(Type.String({ minLength: 2, maxLength: 500 })),
    opening_hours: Type.Optional(OpeningHoursSchema),
    lat: Type.Optional(Lat),
    lon: Type.Optional(Lon),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const StoreListQuery = Type.Intersect([
  PageQuery,
  Type.Object({ status: Type.Optional(Type.Enum(STORE_STATUSES)) }),
]);

export const OperatorView = Type.Object({
  id: Uuid,
  agent_id: Uuid,
  store_id: Nullable(Uuid),
  role: Type.Enum(OPERATOR_ROLES),
  full_name: Type.String(),
  phone: Type.String(),
  status: Type.Enum(OPERATOR_STATUSES),
  last_login_at: Nullable(Type.String({ format: 'date-time' })),
  devices: Type.Array(
    Type.Object({ device_id: Type.String(), bound_at: Type.String({ format: 'date-time' }) }),
  ),
  created_at: Type.String({ format: 'date-time' }),
});
export const OperatorPage = pageOf(OperatorView);

export const OperatorAddBody = Type.Object(
  {
    agent_id: Uuid,
    store_id: Type.Optional(Nullable(Uuid)),
    role: Type.Enum(OPERATOR_ROLES),
    full_name: Type.String({ minLength: 2, maxLength: 200 }),
    phone: Type.String({ minLength: 4, maxLength: 32, description: 'E.164; the sign-in identifier' }),
    pin: Type.Optional(
      Type.String({ pattern: '^[0-9]{6}$', description: 'Tellers: the initial 6-digit PIN' }),
    ),
    password: Type.Optional(Type.String({ minLength: 1, maxLength: 1024, description: 'Agent admins' })),
  },
  { additionalProperties: false },
);

/** An agent admin adds a teller at one of their agent's stores. */
export const TellerAddBody = Type.Object(
  {
    store_id: Uuid,
    full_name: Type.String({ minLength: 2, maxLength: 200 }),
    phone: Type.String({ minLength: 4, maxLength: 32 }),
    pin: Type.String({ pattern: '^[0-9]{6}$' }),
  },
  { additionalProperties: false },
);

export const OperatorListQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    store_id: Type.Optional(Uuid),
    status: Type.Optional(Type.Enum(OPERATOR_STATUSES)),
  }),
]);

export const PinBody = Type.Object(
  { pin: Type.String({ pattern: '^[0-9]{6}$' }) },
  { additionalProperties: false },
);

export const DeviceBindBody = Type.Object(
  {
    device_id: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9._:-]{1,128}$' }),
    public_key: Type.String({
      minLength: 40,
      maxLength: 2048,
      description: 'Ed25519 public key: base64 of the raw 32 bytes or of SPKI DER, or SPKI PEM',
    }),
  },
  { additionalProperties: false },
);
