/** Schemas of the USSD gateway routes and the session reports (document and validation). */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';
import { MoneyOut } from '../../platform/money.ts';

const open = { additionalProperties: true } as const;
const day = (description: string) =>
  // The format checks the calendar too (2026-02-30 is a 422, not an invalid date reaching the query).
  Type.String({
    format: 'date',
    pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$',
    description: `${description} (YYYY-MM-DD, UTC)`,
  });

export const GatewayParams = Type.Object({
  // No length limits: any gateway or secret that is not one answers the same 404 (never a 422).
  gateway: Type.String({ description: 'at, hubtel, arkesel or nalo', examples: ['at'] }),
  secret: Type.String({ description: 'The gateway’s secret (USSD_<GATEWAY>_SECRET)' }),
});
export const SecretParams = Type.Object({ secret: GatewayParams.properties.secret });

const AtRequest = Type.Object(
  {
    sessionId: Type.String(),
    serviceCode: Type.String({ examples: ['*384*123#'] }),
    phoneNumber: Type.String({ examples: ['+254712345678'] }),
    networkCode: Type.String(),
    text: Type.String({ description: 'Every input so far joined by `*`; empty on the first request' }),
  },
  {
    ...open,
    required: ['sessionId', 'phoneNumber'],
    title: "Africa's Talking",
    examples: [
      {
        sessionId: 'ATUid_9b2f3c1e5d7a4c8e',
        serviceCode: '*384*123#',
        phoneNumber: '+254712345678',
        networkCode: '63902',
        text: '1*2',
      },
    ],
  },
);
const HubtelRequest = Type.Object(
  {
    Type: Type.Union([
      Type.Literal('Initiation'),
      Type.Literal('Response'),
      Type.Literal('Release'),
      Type.Literal('Timeout'),
    ]),
    Message: Type.String({ description: 'The latest input (on Initiation, the string dialled)' }),
    ServiceCode: Type.String(),
    Operator: Type.String(),
    ClientState: Type.String(),
    Mobile: Type.String({ description: 'The msisdn without +', examples: ['233246912184'] }),
    SessionId: Type.String(),
    Sequence: Type.Integer({ minimum: 0 }),
  },
  { ...open, required: ['Type', 'Mobile', 'SessionId', 'Sequence'], title: 'Hubtel' },
);
const ArkeselRequest = Type.Object(
  {
    sessionID: Type.String(),
    userID: Type.String(),
    newSession: Type.Boolean(),
    msisdn: Type.String({ examples: ['233246912184'] }),
    userData: Type.String({ description: 'The latest input (on a new session, the string dialled)' }),
    network: Type.String(),
  },
  { ...open, required: ['sessionID', 'newSession', 'msisdn'], title: 'Arkesel' },
);
const NaloRequest = Type.Object(
  {
    USERID: Type.String(),
    MSISDN: Type.String({ examples: ['233246912184'] }),
    MSGTYPE: Type.Boolean({ description: 'true: a new session' }),
    USERDATA: Type.String({ description: 'The latest input' }),
    NETWORK: Type.String(),
  },
  { ...open, required: ['USERID', 'MSISDN', 'MSGTYPE'], title: 'Nalo' },
);

/** Documented per content type; the adapter of the path's gateway reads the body (400 when it is not its format). */
export const GatewayBody = {
  content: {
    'application/x-www-form-urlencoded': { schema: AtRequest },
    'application/json': {
      schema: Type.Union([HubtelRequest, ArkeselRequest, NaloRequest], {
        examples: [
          {
            Type: 'Response',
            Message: '1',
            ServiceCode: '713*2',
            Operator: 'mtn',
            ClientState: '',
            Mobile: '233246912184',
            SessionId: '8d44c3a1e5f04b7e9a2d6c1f0b3e7a95',
            Sequence: 2,
          },
        ],
      }),
    },
  },
};

const HubtelReply = Type.Object(
  {
    SessionId: Type.String(),
    Type: Type.Union([Type.Literal('response'), Type.Literal('release')]),
    Message: Type.String(),
    Label: Type.String(),
    DataType: Type.Union([Type.Literal('input'), Type.Literal('display')]),
    FieldType: Type.Literal('text'),
    ClientState: Type.String(),
  },
  { title: 'Hubtel' },
);
const ArkeselReply = Type.Object(
  {
    sessionID: Type.String(),
    userID: Type.String(),
    msisdn: Type.String(),
    continueSession: Type.Boolean(),
    message: Type.String(),
  },
  { title: 'Arkesel' },
);
const NaloReply = Type.Object(
  { USERID: Type.String(), MSISDN: Type.String(), MSGTYPE: Type.Boolean(), MSG: Type.String() },
  { title: 'Nalo' },
);

export const GatewayReply = {
  description:
    'The screen in the gateway’s format: Africa’s Talking `CON `/`END ` text, the others JSON. Also the answer ' +
    'when the service fails (an END screen saying to try later): a gateway is never answered 500.',
  content: {
    'text/plain': { schema: Type.String({ examples: ['CON Welcome\n1. Balance\n2. Send money'] }) },
    'application/json': { schema: Type.Union([HubtelReply, ArkeselReply, NaloReply]) },
  },
};

export const SessionReportBody = {
  content: {
    'application/x-www-form-urlencoded': {
      schema: Type.Object(
        {
          date: Type.String({ examples: ['2026-12-07 08:10:23'] }),
          sessionId: Type.String(),
          serviceCode: Type.String(),
          networkCode: Type.String(),
          phoneNumber: Type.String(),
          status: Type.String({ examples: ['Success', 'Incomplete', 'Failed'] }),
          cost: Type.String({ examples: ['KES 0.10'] }),
          durationInMillis: Type.String({ pattern: '^[0-9]+$' }),
          hopsCount: Type.String({ pattern: '^[0-9]+$' }),
          input: Type.String({ description: 'Not stored (it holds the PIN)' }),
          lastAppResponse: Type.String({ description: 'Not stored (it may show personal data)' }),
          errorMessage: Type.String(),
        },
        { ...open, required: ['sessionId', 'status'] },
      ),
    },
  },
};

export const SessionReport = Type.Object({
  id: Type.String({ format: 'uuid' }),
  gateway: Type.String(),
  session_id: Type.String(),
  service_code: Type.Union([Type.String(), Type.Null()]),
  network_code: Type.Union([Type.String(), Type.Null()]),
  phone_number: Type.Union([Type.String(), Type.Null()], {
    description: 'As the gateway sent it; null once the customer was erased',
  }),
  status: Type.String({ description: 'success, incomplete or failed (lower case)' }),
  cost: Type.Union([Type.String(), Type.Null()], { description: 'As the gateway sent it ("KES 0.10")' }),
  cost_currency: Type.Union([Type.String(), Type.Null()]),
  cost_minor: Type.Optional(
    Type.Unsafe<bigint>({
      type: 'integer',
      format: 'int64',
      description: 'The cost in minor units of `cost_currency`; absent when the cost does not parse exactly',
    }),
  ),
  duration_ms: Type.Union([Type.Integer(), Type.Null()]),
  hops_count: Type.Union([Type.Integer(), Type.Null()]),
  error_message: Type.Union([Type.String(), Type.Null()]),
  occurred_at: Type.String({
    format: 'date-time',
    description: 'When the session ended (the gateway’s date)',
  }),
  received_at: Type.String({ format: 'date-time' }),
});

export const SessionReportQuery = Type.Object({
  ...PageQuery.properties,
  status: Type.Optional(Type.String({ maxLength: 40, examples: ['failed'] })),
  from: Type.Optional(day('Sessions that ended on or after this day')),
  to: Type.Optional(day('Sessions that ended on or before this day')),
});
export const SessionReportPage = pageOf(SessionReport);

export const SummaryQuery = Type.Object({
  from: Type.Optional(day('First day (default: 30 days before `to`)')),
  to: Type.Optional(day('Last day, inclusive (default: today)')),
});

export const SessionReportSummary = Type.Object({
  from: Type.String(),
  to: Type.String(),
  sessions: Type.Integer(),
  by_status: Type.Array(Type.Object({ status: Type.String(), sessions: Type.Integer() })),
  average_duration_ms: Type.Union([Type.Integer(), Type.Null()]),
  cost: Type.Array(Type.Object({ currency: Type.String(), total_minor: MoneyOut }), {
    description: 'Total cost per currency, of the sessions whose cost parsed',
  }),
  unpriced_sessions: Type.Integer({ description: 'Sessions with a cost that did not parse (not in `cost`)' }),
});
