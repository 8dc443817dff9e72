/**
 * HTTP routes of `/api/v1/wallet/bank-account` (link, verify, unlink, list) and the bank money POSTs
 * `/api/v1/wallet/transaction/topup` and `/api/v1/wallet/transaction/bank-withdraw`.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { channelOf, contextOf, requirePrincipal } from '../../platform/http.ts';
import { TransactionViewSchema } from '../transactions/index.ts';
import type { LinkedAccountsService } from './banking.accounts.ts';
import {
  BankMoneyBody,
  IdParams,
  LinkBody,
  LinkedAccountPage,
  LinkedAccountQuery,
  LinkedAccountView,
  UnlinkBody,
  VerificationView,
  VerifyBody,
} from './banking.schemas.ts';
import type { BankTransfersService } from './banking.transfers.ts';

/** Refusals a money POST documents beyond the shared ones: 423 PIN locked, 428 one-time code needed. */
const moneyErrors = { 423: { $ref: 'ErrorBody#' }, 428: { $ref: 'ErrorBody#' } };

const BANK_OUTCOME =
  'When the core banking system does not answer, the transaction stays `processing` and the answer is 503 ' +
  'BANK_OUTCOME_UNKNOWN with its `transaction_id` (replayed for the same Idempotency-Key); reconciliation settles ' +
  'it. A refusal by the bank is 422 BANK_REJECTED (the transaction is failed). Without a configured core banking ' +
  'system: 503 CBS_NOT_CONFIGURED.';

/** Money between a wallet and a bank moves only at the account holder's request; the document says so. */
const CUSTOMERS_ONLY = 'Customers only: staff get 403 CUSTOMER_ONLY.';

export function bankingRoutes(
  accounts: LinkedAccountsService,
  transfers: BankTransfersService,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/wallet/bank-account/link',
      {
        config: { access: { permission: 'customer:update', allowCustomer: true } },
        schema: {
          operationId: 'linkBankAccount',
          tags: ['banking'],
          summary: 'Link a bank account (pending until verified)',
          description:
            'The account number is stored encrypted and shown as its last four digits. Staff name the customer.',
          body: LinkBody,
          response: { 201: LinkedAccountView },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(await accounts.link(requirePrincipal(request), request.body, contextOf(request))),
    );

    app.post(
      '/api/v1/wallet/bank-account/verify',
      {
        config: { access: { permission: 'customer:update', allowCustomer: true } },
        schema: {
          operationId: 'verifyBankAccount',
          tags: ['banking'],
          summary: 'Verify a linked bank account (holder name match, or a micro deposit read back)',
          description:
            '`name_match`: the core banking system’s account holder must be the customer (the account active and ' +
            'in the currency); otherwise the account is failed with the reason. `micro_deposit`: without `amount`, ' +
            '1–99 minor units are deposited into the account; with `amount`, the customer confirms what arrived ' +
            '(3 tries, then failed).',
          body: VerifyBody,
          response: { 200: VerificationView },
        },
      },
      async (request) => accounts.verify(requirePrincipal(request), request.body, contextOf(request)),
    );

    app.post(
      '/api/v1/wallet/bank-account/unlink',
      {
        config: { access: { permission: 'customer:update', allowCustomer: true } },
        schema: {
          operationId: 'unlinkBankAccount',
          tags: ['banking'],
          summary: 'Unlink a bank account',
          body: UnlinkBody,
          response: { 200: LinkedAccountView },
        },
      },
      async (request) =>
        accounts.unlink(requirePrincipal(request), request.body.bank_account_id, contextOf(request)),
    );

    app.get(
      '/api/v1/wallet/bank-account',
      {
        config: { access: { permission: 'customer:read', allowCustomer: true } },
        schema: {
          operationId: 'listBankAccounts',
          tags: ['banking'],
          summary: 'Linked bank accounts, newest first (customers: their own; unlinked ones only by status)',
          querystring: LinkedAccountQuery,
          response: { 200: LinkedAccountPage },
        },
      },
      async (request) => accounts.list(requirePrincipal(request), request.query),
    );

    app.get(
      '/api/v1/wallet/bank-account/:id',
      {
        config: { access: { permission: 'customer:read', allowCustomer: true } },
        schema: {
          operationId: 'getBankAccount',
          tags: ['banking'],
          summary: 'One linked bank account',
          params: IdParams,
          response: { 200: LinkedAccountView },
        },
      },
      async (request) => accounts.get(requirePrincipal(request), request.params.id),
    );

    app.post(
      '/api/v1/wallet/transaction/topup',
      {
        config: {
          access: { permission: 'transaction:create', allowCustomer: true },
          idempotency: 'required',
        },
        schema: {
          operationId: 'topUpFromBank',
          tags: ['banking'],
          summary: 'Top up the wallet from a verified linked bank account (customers)',
          description: `Needs the customer's PIN (and a one-time code at or above \`payments.otp_threshold_minor\`). ${BANK_OUTCOME} Requires an Idempotency-Key. ${CUSTOMERS_ONLY}`,
          body: BankMoneyBody,
          response: { 201: TransactionViewSchema, ...moneyErrors },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(
            await transfers.topUp(
              requirePrincipal(request),
              request.body,
              channelOf(request, 'mobile'),
              request.idempotency,
              contextOf(request),
            ),
          ),
    );

    app.post(
      '/api/v1/wallet/transaction/bank-withdraw',
      {
        config: {
          access: { permission: 'transaction:create', allowCustomer: true },
          idempotency: 'required',
        },
        schema: {
          operationId: 'withdrawToBank',
          tags: ['banking'],
          summary: 'Send money from the wallet to a verified linked bank account (customers)',
          description:
            'Amount, the product’s `bank_withdrawal` fee and excise duty are held on the wallet while the bank is ' +
            `asked, then taken (or released when the bank refuses). ${BANK_OUTCOME} Requires an Idempotency-Key. ` +
            CUSTOMERS_ONLY,
          body: BankMoneyBody,
          response: { 201: TransactionViewSchema, ...moneyErrors },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(
            await transfers.withdraw(
              requirePrincipal(request),
              request.body,
              channelOf(request, 'mobile'),
              request.idempotency,
              contextOf(request),
            ),
          ),
    );
  };
}
