/** Schemas of the geo area's routes: operator check-in/out, staff alerts and location checks. */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';
import { SPOOFING_SIGNALS } from './agents.location.ts';
import { ALERT_KINDS, LOCATION_OUTCOMES } from './agents.tables.ts';

const Uuid = Type.String({ format: 'uuid' });
const NullableUuid = Type.Union([Uuid, Type.Null()]);
const Time = Type.String({ format: 'date-time' });
const NullableTime = Type.Union([Time, Type.Null()]);
const Outcome = Type.Enum(LOCATION_OUTCOMES);
const Decision = Type.Union([Type.Literal('allowed'), Type.Literal('flagged'), Type.Literal('refused')]);
const Signal = Type.Enum(SPOOFING_SIGNALS);
const AlertKind = Type.Enum(ALERT_KINDS);
const AlertStatus = Type.Union([Type.Literal('open'), Type.Literal('acknowledged')]);

/** The device's fix, as every operator action carries it. */
export const DeviceLocationSchema = Type.Object(
  {
    lat: Type.Number({ minimum: -90, maximum: 90, description: 'Latitude, WGS84 degrees' }),
    lon: Type.Number({ minimum: -180, maximum: 180, description: 'Longitude, WGS84 degrees' }),
    accuracy_m: Type.Number({
      minimum: 0,
      maximum: 100000,
      description: 'Reported horizontal accuracy, metres (68 % radius)',
    }),
    fix_at: Type.String({ format: 'date-time', description: 'When the fix was taken' }),
    mock_location: Type.Optional(
      Type.Boolean({ description: 'The app’s flag: the OS reports a mock-location provider' }),
    ),
  },
  { description: 'The device’s location fix, checked against the store’s geofence' },
);

export const ShiftBody = Type.Object({
  store_id: Type.Optional(
    Type.String({
      format: 'uuid',
      description: 'Agent admins: the store (tellers work at their own). Check-out: the open shift’s store',
    }),
  ),
  location: DeviceLocationSchema,
});

const ShiftView = Type.Object({
  id: Uuid,
  operator_id: Uuid,
  store_id: Uuid,
  check_in_at: Time,
  check_in_check_id: Uuid,
  check_out_at: NullableTime,
  check_out_check_id: NullableUuid,
});

const CheckSummary = Type.Object({
  id: Uuid,
  outcome: Outcome,
  decision: Type.Union([Type.Literal('allowed'), Type.Literal('flagged')]),
  distance_m: Type.Number({ description: 'From the fence’s edge, metres (negative: inside)' }),
  signals: Type.Array(Signal),
});

export const ShiftResult = Type.Object({ shift: ShiftView, check: CheckSummary });

export const AlertQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    agent_id: Type.Optional(Uuid),
    kind: Type.Optional(AlertKind),
    status: Type.Optional(AlertStatus),
  }),
]);

export const AlertView = Type.Object({
  id: Uuid,
  agent_id: Uuid,
  store_id: NullableUuid,
  operator_id: NullableUuid,
  kind: AlertKind,
  status: AlertStatus,
  details: Type.Record(Type.String(), Type.Unknown(), {
    description:
      'spoofing: `signals`; geofence_repeated: `violations` within `window_minutes`; both: `check_id`, `action`',
  }),
  acknowledged_by: NullableUuid,
  created_at: Time,
});

export const AlertPage = pageOf(AlertView);

export const IdParams = Type.Object({ id: Uuid });

export const CheckQuery = Type.Intersect([PageQuery, Type.Object({ outcome: Type.Optional(Outcome) })]);

export const CheckView = Type.Object({
  id: Uuid,
  operator_id: Uuid,
  agent_id: Uuid,
  store_id: Uuid,
  action: Type.String({ description: 'cash_in, cash_out, check_in, check_out, …' }),
  lat: Type.Number(),
  lon: Type.Number(),
  accuracy_m: Type.Number(),
  fix_at: Time,
  distance_m: Type.Number({ description: 'From the fence’s edge, metres (negative: inside)' }),
  outcome: Outcome,
  decision: Decision,
  signals: Type.Array(Signal),
  transaction_id: NullableUuid,
  checked_at: Time,
});

export const CheckPage = pageOf(CheckView);
