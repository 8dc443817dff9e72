/** HTTP routes of FX: rates (`/api/v1/wallet/fx`), quotes, and conversion between a customer's wallets. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { channelOf, contextOf, requirePrincipal } from '../../platform/http.ts';
import { CurrencyCode, MoneyIn, MoneyOut } from '../../platform/money.ts';
import type { FxService } from './transactions.fx.ts';
import { OtpAnswer, Pin, TransactionView } from './transactions.schemas.ts';

const RateView = Type.Object({
  base_currency: Type.String(),
  quote_currency: Type.String(),
  rate: Type.String({ description: 'Quote units per base unit (major units), exact decimal' }),
  spread_bps: Type.Integer(),
  updated_at: Type.String({ format: 'date-time' }),
});
const RateSet = Type.Object({
  base_currency: CurrencyCode,
  quote_currency: CurrencyCode,
  rate: Type.String({ pattern: '^\\d{1,12}(\\.\\d{1,8})?$', description: 'e.g. "129.5" KES per USD' }),
  spread_bps: Type.Integer({ minimum: 0, maximum: 2_000 }),
});
const QuoteBody = Type.Object({ from_currency: CurrencyCode, to_currency: CurrencyCode, amount: MoneyIn });
const QuoteView = Type.Object({
  from_currency: Type.String(),
  to_currency: Type.String(),
  amount: MoneyOut,
  destination_amount: MoneyOut,
  destination_amount_display: Type.String(),
  mid_rate: Type.String(),
  base_currency: Type.String(),
  spread_bps: Type.Integer(),
});
const ConvertBody = Type.Object({
  customer_id: Type.Optional(Type.String({ format: 'uuid', description: 'Staff only: whose wallets' })),
  from_currency: CurrencyCode,
  to_currency: CurrencyCode,
  amount: MoneyIn,
  pin: Type.Optional(Pin),
  otp: Type.Optional(OtpAnswer),
});

export function fxRoutes(fx: FxService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/wallet/fx/rate',
      {
        config: { access: { permission: 'wallet:read', allowCustomer: true } },
        schema: {
          operationId: 'listFxRates',
          tags: ['wallet'],
          summary: 'Exchange rates (mid) and the customer spread',
          response: { 200: Type.Object({ items: Type.Array(RateView) }) },
        },
      },
      async () => fx.list(),
    );

    app.post(
      '/api/v1/wallet/fx/rate/set',
      {
        config: { access: { permission: 'wallet:product_manage' } },
        schema: {
          operationId: 'setFxRate',
          tags: ['wallet'],
          summary: 'Set the mid rate and spread of a currency pair (audited)',
          body: RateSet,
          response: { 200: RateView },
        },
      },
      async (request) => fx.setRate(request.body, contextOf(request)),
    );

    app.post(
      '/api/v1/wallet/fx/quote',
      {
        config: { access: { permission: 'wallet:read', allowCustomer: true } },
        schema: {
          operationId: 'quoteFx',
          tags: ['wallet'],
          summary: 'What a conversion would give, at the rate less the spread',
          body: QuoteBody,
          response: { 200: QuoteView },
        },
      },
      async (request) => fx.quote(request.body),
    );

    app.post(
      '/api/v1/wallet/transaction/convert',
      {
        config: {
          access: { permission: 'transaction:create', allowCustomer: true },
          idempotency: 'required',
        },
        schema: {
          operationId: 'convertCurrency',
          tags: ['wallet'],
          summary: 'Convert between two of a customer’s wallets (posted through the FX position accounts)',
          body: ConvertBody,
          response: { 201: TransactionView, 423: { $ref: 'ErrorBody#' }, 428: { $ref: 'ErrorBody#' } },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(
            await fx.convert(
              requirePrincipal(request),
              { ...request.body, channel: channelOf(request, 'mobile') },
              request.idempotency,
              contextOf(request),
            ),
          ),
    );
  };
}
