/**
 * Runtime settings: each has a JSON schema for its value, a default, and whether clients may read it
 * (public settings feed `/api/v1/app/config`). Changing one is validated, versioned and audited.
 */
import { Type } from 'typebox';

const Language = Type.Union([Type.Literal('en'), Type.Literal('fr'), Type.Literal('sw')]);
const Channel = Type.Union([
  Type.Literal('web'),
  Type.Literal('mobile'),
  Type.Literal('ussd'),
  Type.Literal('agent'),
]);
const Version = Type.String({ pattern: '^\\d+\\.\\d+\\.\\d+$', maxLength: 32 });
/** Per currency, a positive amount in minor units as a decimal string (money inside jsonb is never a JSON number). */
const ThresholdsMinor = Type.Record(
  Type.String({ pattern: '^[A-Z]{3}$' }),
  Type.String({
    pattern: '^[1-9][0-9]{0,17}$',
    description: 'Minor units as a decimal string, e.g. "10000000"',
  }),
);

export const settingDefinitions = {
  'app.maintenance_mode': {
    description: 'Clients show a maintenance notice and stop offering money movement',
    schema: Type.Boolean(),
    default: false,
    public: true,
  },
  'app.min_version_android': {
    description: 'Oldest Android app version allowed',
    schema: Version,
    default: '1.0.0',
    public: true,
  },
  'app.min_version_ios': {
    description: 'Oldest iOS app version allowed',
    schema: Version,
    default: '1.0.0',
    public: true,
  },
  'app.supported_languages': {
    description: 'Languages offered to customers',
    schema: Type.Array(Language, { minItems: 1, uniqueItems: true }),
    default: ['en', 'fr', 'sw'],
    public: true,
  },
  'app.supported_channels': {
    description: 'Channels customers may use',
    schema: Type.Array(Channel, { minItems: 1, uniqueItems: true }),
    default: ['web', 'mobile', 'ussd', 'agent'],
    public: true,
  },
  'app.support_contact': {
    description: 'Support phone or email shown to customers',
    schema: Type.String({ maxLength: 200 }),
    default: 'support@example.com',
    public: true,
  },
  'features.p2p_transfers': {
    description: 'P2P transfers enabled',
    schema: Type.Boolean(),
    default: true,
    public: true,
  },
  'features.qr_payments': {
    description: 'QR merchant payments enabled',
    schema: Type.Boolean(),
    default: true,
    public: true,
  },
  'features.bill_payments': {
    description: 'Bill payments enabled',
    schema: Type.Boolean(),
    default: true,
    public: true,
  },
  'features.loans': {
    description: 'Loan applications enabled',
    schema: Type.Boolean(),
    default: true,
    public: true,
  },
  'features.self_registration': {
    description: 'Customers may register themselves on the mobile app',
    schema: Type.Boolean(),
    default: true,
    public: true,
  },
  'auth.otp_ttl_seconds': {
    description: 'Lifetime of SMS/email one-time codes (at most 10 minutes)',
    schema: Type.Integer({ minimum: 60, maximum: 600 }),
    default: 300,
    public: false,
  },
  'auth.staff_mfa_required': {
    description: 'Staff must complete a second factor at login',
    schema: Type.Boolean(),
    default: false,
    public: false,
  },
  'auth.customer_push_login': {
    description:
      'Customers with a registered device approve each phone + PIN sign-in on that device (push challenge); ' +
      'customers without one sign in with the PIN alone',
    schema: Type.Boolean(),
    default: false,
    public: false,
  },
  'auth.mfa_policy': {
    description:
      'Step-up per staff role: `required` makes a second factor mandatory for anyone holding the role (as ' +
      'auth.staff_mfa_required does for all staff); `factors` lists the only factors that satisfy it for that role ' +
      '(several roles: every list must allow the factor). Customers step up per payment (payments.otp_threshold_minor).',
    schema: Type.Record(
      Type.String({ pattern: '^[a-z][a-z0-9_]{1,63}$' }),
      Type.Object({
        required: Type.Boolean(),
        factors: Type.Array(
          Type.Union([
            Type.Literal('totp'),
            Type.Literal('recovery_code'),
            Type.Literal('security_questions'),
            Type.Literal('sms_otp'),
            Type.Literal('email_otp'),
          ]),
          { uniqueItems: true, maxItems: 5 },
        ),
      }),
    ),
    default: {} as Record<string, { required: boolean; factors: string[] }>,
    public: false,
  },
  'auth.password_expiry_days': {
    description: 'Days after which staff must change their password (0: never, as NIST advises)',
    schema: Type.Integer({ minimum: 0, maximum: 3650 }),
    default: 0,
    public: false,
  },
  'auth.password_complexity': {
    description: 'Require upper, lower, digit and symbol in passwords (the original system’s rule)',
    schema: Type.Boolean(),
    default: false,
    public: false,
  },
  'payments.otp_threshold_minor': {
    description:
      'Per currency: transfers of at least this many minor units need a one-time code bound to payee and amount',
    schema: ThresholdsMinor,
    default: { KES: '10000000', UGX: '3000000', TZS: '200000000', USD: '100000' } as Record<string, string>,
    public: true,
  },
  'payments.cash_withdrawal_approval_threshold_minor': {
    description:
      'Per currency: teller cash withdrawals of at least this many minor units need a second staff member; in a currency not listed, every withdrawal does',
    schema: ThresholdsMinor,
    default: { KES: '10000000', USD: '100000' } as Record<string, string>,
    public: false,
  },
  'payments.staff_transfer_approval_threshold_minor': {
    description:
      "Per currency: staff transfers from a customer's wallet (without the customer's PIN) of at least this many minor units need a second staff member; in a currency not listed, every staff transfer does",
    schema: ThresholdsMinor,
    default: { KES: '1000000', USD: '10000' } as Record<string, string>,
    public: false,
  },
  'payments.dispute_window_days': {
    description: 'Days after a payment during which its payer may dispute it',
    schema: Type.Integer({ minimum: 1, maximum: 540 }),
    default: 30,
    public: true,
  },
  'payments.dynamic_qr_ttl_seconds': {
    description: 'Lifetime of a dynamic (single-payment) merchant QR code',
    schema: Type.Integer({ minimum: 30, maximum: 86_400 }),
    default: 900,
    public: false,
  },
  'approvals.required_actions': {
    description: 'Actions that need a second staff member’s approval (maker-checker), e.g. user.role_assign',
    schema: Type.Array(Type.String({ pattern: '^[a-z_]+\\.[a-z_]+$', maxLength: 64 }), {
      uniqueItems: true,
      maxItems: 100,
    }),
    default: [] as string[],
    public: false,
  },
  'approvals.expiry_hours': {
    description: 'Hours a maker-checker request waits before it lapses',
    schema: Type.Integer({ minimum: 1, maximum: 720 }),
    default: 72,
    public: false,
  },
  'institution.name': {
    description: 'The institution’s name, printed at the top of receipts and statements',
    schema: Type.String({ minLength: 1, maxLength: 120 }),
    default: 'CodeForge Suite',
    public: true,
  },
  'institution.registration': {
    description:
      'The registration or licence line under the name on receipts and statements (empty: none), e.g. ' +
      '"Licensed by the Central Bank of Kenya · Reg. No. …"',
    schema: Type.String({ maxLength: 300 }),
    default: '',
    public: true,
  },
  'institution.logo': {
    description:
      'The logo on receipts and statements: a PNG or JPEG data URI (at most ~200 KB and 1024×1024 pixels; an ' +
      'image the PDF writer cannot read is refused), or null for none',
    schema: Type.Union([
      Type.String({ pattern: '^data:image/(png|jpeg);base64,[A-Za-z0-9+/]+={0,2}$', maxLength: 280_000 }),
      Type.Null(),
    ]),
    default: null as string | null,
    public: false,
  },
  'institution.time_zone': {
    description:
      'IANA time zone for times on receipts and statements when the customer has not chosen their own ' +
      '(notification preferences)',
    schema: Type.String({ pattern: '^(UTC|[A-Z][A-Za-z_]+(/[A-Za-z0-9_+-]+){1,2})$', maxLength: 64 }),
    default: 'Africa/Nairobi',
    public: true,
  },
  // aml: realtime (the real-time rules' own thresholds live in their versioned definitions: aml_rules)
  'aml.realtime_enabled': {
    description:
      'Decide every payment with the AML real-time rules before it posts (allow, review or block); off, payments ' +
      'are only watched after posting',
    schema: Type.Boolean(),
    default: true,
    public: false,
  },
  'aml.review_sla_hours': {
    description:
      'A payment held for AML review must be released or rejected within this many hours (then an alert)',
    schema: Type.Integer({ minimum: 1, maximum: 720 }),
    default: 24,
    public: false,
  },
  'aml.realtime_degraded_review_minor': {
    description:
      'Per currency: when the real-time aggregates are unavailable (Redis down), a payment the other rules allow ' +
      'is held for review at or above this many minor units, and allowed below (the decision records ' +
      '`aggregates_unavailable`); a currency not listed is always allowed',
    schema: ThresholdsMinor,
    default: { KES: '5000000', USD: '50000' } as Record<string, string>,
    public: false,
  },
  // aml: screening
  'aml.screening_thresholds': {
    description:
      'Name-match scores (0..1): at or above `review` a screening raises an alert; at or above `hit` it holds ' +
      'onboarding and raises a high-priority alert',
    schema: Type.Object(
      { review: Type.Number({ minimum: 0, maximum: 1 }), hit: Type.Number({ minimum: 0, maximum: 1 }) },
      { additionalProperties: false },
    ),
    default: { review: 0.85, hit: 0.93 },
    public: false,
  },
  'aml.beneficiary_screening_threshold_minor': {
    description: 'Per currency: transfers of at least this many minor units have their beneficiary screened',
    schema: ThresholdsMinor,
    default: { KES: '10000000', USD: '100000' } as Record<string, string>,
    public: false,
  },
  // aml: risk
  'aml.high_risk_countries': {
    description: 'ISO 3166 alpha-2 codes treated as high-risk geography in customer risk rating',
    schema: Type.Array(Type.String({ pattern: '^[A-Z]{2}$' }), { maxItems: 250 }),
    default: ['IR', 'KP', 'MM'] as string[],
    public: false,
  },
  'aml.risk_bands': {
    description: 'Risk score (0..100) at or above which a customer is rated medium, and high',
    schema: Type.Object(
      { medium: Type.Number({ minimum: 0, maximum: 100 }), high: Type.Number({ minimum: 0, maximum: 100 }) },
      { additionalProperties: false },
    ),
    default: { medium: 40, high: 70 },
    public: false,
  },
  'aml.risk_weights': {
    description:
      'Weight of each customer risk factor (its score 0..100 counts this many times in the weighted mean); 0 ' +
      'leaves a factor out. At least one weight must be above 0',
    schema: Type.Object(
      {
        product_tier: Type.Number({ minimum: 0, maximum: 100 }),
        geography: Type.Number({ minimum: 0, maximum: 100 }),
        occupation_income: Type.Number({ minimum: 0, maximum: 100 }),
        pep: Type.Number({ minimum: 0, maximum: 100 }),
        channel_mix: Type.Number({ minimum: 0, maximum: 100 }),
        alert_history: Type.Number({ minimum: 0, maximum: 100 }),
      },
      { additionalProperties: false },
    ),
    default: {
      product_tier: 1,
      geography: 2,
      occupation_income: 1,
      pep: 2,
      channel_mix: 1,
      alert_history: 2,
    },
    public: false,
  },
  'aml.high_risk_occupations': {
    description:
      'Words that make a declared occupation high-risk in customer risk rating (case-insensitive, matched as ' +
      'whole words of the occupation): cash-intensive trades, dealers in high-value goods, public office',
    schema: Type.Array(Type.String({ minLength: 2, maxLength: 50 }), { maxItems: 200 }),
    default: [
      'casino',
      'gambling',
      'betting',
      'forex',
      'bureau de change',
      'money changer',
      'remittance',
      'jeweller',
      'jeweler',
      'gold',
      'diamond',
      'gemstone',
      'car dealer',
      'arms',
      'crypto',
      'politician',
      'minister',
      'legislator',
      'real estate',
    ] as string[],
    public: false,
  },
  'aml.pep_always_high': {
    description:
      'A politically exposed person (the latest screening matched a PEP entry) is rated high whatever the score',
    schema: Type.Boolean(),
    default: true,
    public: false,
  },
  'aml.high_risk_limit_percent': {
    description:
      'Enhanced due diligence: while a customer is rated high, every KYC-tier and product amount limit of their ' +
      'wallets counts at this percent (rounded down); 100 leaves the limits as set. A staff restriction of the ' +
      'customer’s limits is left as it is',
    schema: Type.Integer({ minimum: 1, maximum: 100 }),
    default: 50,
    public: false,
  },
  // aml: cases
  'aml.case_sla_hours': {
    description: 'Per alert priority: a case must be closed within this many hours (then a breach alert)',
    schema: Type.Object(
      {
        low: Type.Integer({ minimum: 1 }),
        medium: Type.Integer({ minimum: 1 }),
        high: Type.Integer({ minimum: 1 }),
        critical: Type.Integer({ minimum: 1 }),
      },
      { additionalProperties: false },
    ),
    default: { low: 720, medium: 168, high: 72, critical: 24 },
    public: false,
  },
  'aml.false_positive_four_eyes_band': {
    description:
      'Closing a case as a false positive for a customer rated at or above this band needs a second analyst',
    schema: Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]),
    default: 'medium' as 'low' | 'medium' | 'high',
    public: false,
  },
  // aml: reports
  'aml.ctr_threshold_minor': {
    description:
      'Per currency: a cash transaction (teller or agent) of at least this many minor units creates a currency ' +
      'transaction report (CTR)',
    schema: ThresholdsMinor,
    default: { KES: '100000000', USD: '1000000' } as Record<string, string>,
    public: false,
  },
  // aml: scenarios (SIM swap)
  'aml.sim_swap_lookback_hours': {
    description:
      'A SIM swap the operator reports (CAMARA SIM Swap API, when configured) is recorded as a device event ' +
      'when it happened within this many hours before the question (after a cash-out, a large transfer or a ' +
      'new-device sign-in)',
    schema: Type.Integer({ minimum: 1, maximum: 2400 }),
    default: 72,
    public: false,
  },
} as const;

export type SettingKey = keyof typeof settingDefinitions;

export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(settingDefinitions, key);
}
