/** HTTP routes of `/api/v1/wallet/transaction` (moving money) and `/api/v1/transaction` (history, receipts). */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { channelOf, contextOf, requirePrincipal } from '../../platform/http.ts';
import { ApprovalViewSchema } from '../approvals/index.ts';
import type { ReceiptsService } from './transactions.receipts.ts';
import {
  CashBody,
  IdParams,
  QuoteView,
  ReceiptQuery,
  ReceiptVerification,
  ReceiptVerifyQuery,
  ReceiptView,
  TransactionPage,
  TransactionView,
  TransferBody,
  transactionQuery,
} from './transactions.schemas.ts';
import type { TransactionsService } from './transactions.service.ts';

/** Refusals a money POST documents beyond the shared ones: 423 PIN locked, 428 one-time code needed. */
const moneyErrors = { 423: { $ref: 'ErrorBody#' }, 428: { $ref: 'ErrorBody#' } };

/** `types`: the transaction types the composed modules declare (the history's `type` filter takes those). */
export function transactionRoutes(
  service: TransactionsService,
  receipts: ReceiptsService,
  types: readonly string[],
): FastifyPluginAsyncTypebox {
  const TransactionQuery = transactionQuery(types);
  return async (app) => {
    app.post(
      '/api/v1/wallet/transaction/transfer',
      {
        config: {
          access: { permission: 'transaction:create', allowCustomer: true },
          idempotency: 'required',
        },
        schema: {
          operationId: 'transferFunds',
          tags: ['wallet'],
          summary: 'P2P transfer to a wallet number or phone',
          description:
            'Customers send their PIN; at or above `payments.otp_threshold_minor` the first call answers 428 OTP_REQUIRED ' +
            'with a challenge (the code goes to their phone) and the call is repeated with `otp`. Fees and excise ' +
            'duty are added to the amount. Requires an Idempotency-Key.',
          body: TransferBody,
          response: { 201: TransactionView, ...moneyErrors },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(
            await service.transfer(
              requirePrincipal(request),
              request.body,
              channelOf(request, 'mobile'),
              request.idempotency,
              contextOf(request),
            ),
          ),
    );

    app.post(
      '/api/v1/wallet/transaction/quote',
      {
        config: { access: { permission: 'transaction:create', allowCustomer: true } },
        schema: {
          operationId: 'quoteTransfer',
          tags: ['wallet'],
          summary: 'Fee, duty and total of a transfer, and whether it will need a one-time code',
          body: TransferBody,
          response: { 200: QuoteView },
        },
      },
      async (request) => service.quote(requirePrincipal(request), request.body, channelOf(request, 'mobile')),
    );

    app.post(
      '/api/v1/wallet/transaction/deposit',
      {
        config: { access: { permission: 'wallet:deposit' }, idempotency: 'required' },
        schema: {
          operationId: 'depositCash',
          tags: ['wallet'],
          summary: 'Cash paid in at a branch (teller)',
          body: CashBody,
          response: { 201: TransactionView },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(
            await service.cashDeposit(
              requirePrincipal(request),
              request.body,
              request.idempotency,
              contextOf(request),
            ),
          ),
    );

    app.post(
      '/api/v1/wallet/transaction/withdraw',
      {
        config: { access: { permission: 'wallet:withdraw' }, idempotency: 'required' },
        schema: {
          operationId: 'withdrawCash',
          tags: ['wallet'],
          summary: 'Cash paid out at a branch (teller); large amounts wait for a second staff member (202)',
          body: CashBody,
          response: { 201: TransactionView, 202: ApprovalViewSchema },
        },
      },
      async (request, reply) => {
        const outcome = await service.cashWithdraw(
          requirePrincipal(request),
          request.body,
          request.idempotency,
          contextOf(request),
        );
        return reply.code(outcome.status).send(outcome.body as never);
      },
    );

    app.get(
      '/api/v1/transaction/transaction',
      {
        config: { access: { permission: 'transaction:read', allowCustomer: true } },
        schema: {
          operationId: 'listTransactions',
          tags: ['transaction'],
          summary: 'Transactions, newest first (customers: those they sent or received)',
          querystring: TransactionQuery,
          response: { 200: TransactionPage },
        },
      },
      async (request) => service.list(request.query, requirePrincipal(request)),
    );

    app.get(
      '/api/v1/transaction/transaction/:id',
      {
        config: { access: { permission: 'transaction:read', allowCustomer: true } },
        schema: {
          operationId: 'getTransaction',
          tags: ['transaction'],
          summary: 'One transaction with its state history',
          params: IdParams,
          response: { 200: TransactionView },
        },
      },
      async (request) => service.get(request.params.id, requirePrincipal(request)),
    );

    app.get(
      '/api/v1/transaction/transaction/:id/receipt',
      {
        config: { access: { permission: 'transaction:read', allowCustomer: true } },
        schema: {
          operationId: 'getTransactionReceipt',
          tags: ['transaction'],
          summary: 'Receipt with reference, parties, amounts, fee and time (JSON, or a PDF attachment)',
          params: IdParams,
          querystring: ReceiptQuery,
          response: {
            200: {
              description: 'The receipt (`format=json`), or a PDF attachment (`format=pdf`)',
              content: {
                'application/json': { schema: ReceiptView },
                'application/pdf': { schema: { type: 'string', format: 'binary' } },
              },
            },
          },
        },
      },
      async (request, reply) => {
        const principal = requirePrincipal(request);
        if (request.query.format !== 'pdf') return receipts.receipt(request.params.id, principal);
        const pdf = await receipts.receiptPdf(request.params.id, principal);
        return reply
          .type('application/pdf')
          .header('content-disposition', `attachment; filename="receipt-${request.params.id}.pdf"`)
          .send(pdf as never);
      },
    );

    app.get(
      '/api/v1/transaction/receipt/verify',
      {
        config: { access: { public: true } },
        schema: {
          operationId: 'verifyTransactionReceipt',
          tags: ['transaction'],
          summary: 'Check that a receipt is genuine (the URL in its QR code)',
          description:
            'Public: `code` is printed on the receipt (in its verification URL and QR code), so only someone ' +
            'holding the receipt can check it. A wrong code and an unknown reference both answer 404. Shows the ' +
            'payment’s reference, type, status, amount and time, no names or wallets.',
          querystring: ReceiptVerifyQuery,
          response: { 200: ReceiptVerification },
        },
      },
      async (request) => receipts.verify(request.query.reference, request.query.code),
    );
  };
}
