/** HTTP routes of `/api/v1/wallet/wallet` (wallets, balances, statements) and `/api/v1/wallet/product`. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { toCsv } from '../../platform/csv.ts';

import { contextOf, requirePrincipal } from '../../platform/http.ts';
import { formatDecimal, formatMoney } from '../../platform/money.ts';
import { formatLocalTime, renderStatementPdf } from '../../platform/pdf.ts';
import { walletErrors } from './wallets.errors.ts';
import {
  BalanceView,
  IdParams,
  ProductCreate,
  ProductList,
  ProductUpdate,
  ProductView,
  StatementExportQuery,
  StatementQuery,
  StatementView,
  StatusChange,
  WalletCreate,
  WalletPage,
  WalletQuery,
  WalletView,
} from './wallets.schemas.ts';
import type { WalletsService } from './wallets.service.ts';

const EXPORT_ROWS = 10_000;

export function walletRoutes(service: WalletsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/wallet/wallet/create',
      {
        config: { access: { permission: 'wallet:create', allowCustomer: true }, idempotency: 'optional' },
        schema: {
          operationId: 'createWallet',
          tags: ['wallet'],
          summary: 'Open a wallet for a customer in a currency (one per currency)',
          body: WalletCreate,
          response: { 201: WalletView },
        },
      },
      async (request, reply) =>
        reply
          .code(201)
          .send(
            await service.create(
              request.body,
              requirePrincipal(request),
              contextOf(request),
              request.idempotency,
            ),
          ),
    );

    app.get(
      '/api/v1/wallet/wallet',
      {
        config: { access: { permission: 'wallet:read', allowCustomer: true } },
        schema: {
          operationId: 'listWallets',
          tags: ['wallet'],
          summary: 'Wallets (customers: their own)',
          querystring: WalletQuery,
          response: { 200: WalletPage },
        },
      },
      async (request) => service.list(request.query, requirePrincipal(request)),
    );

    app.get(
      '/api/v1/wallet/wallet/:id',
      {
        config: { access: { permission: 'wallet:read', allowCustomer: true } },
        schema: {
          operationId: 'getWallet',
          tags: ['wallet'],
          summary: 'One wallet with its balance and available balance',
          params: IdParams,
          response: { 200: WalletView },
        },
      },
      async (request) => service.get(request.params.id, requirePrincipal(request)),
    );

    app.get(
      '/api/v1/wallet/wallet/:id/balance',
      {
        config: { access: { permission: 'wallet:read', allowCustomer: true } },
        schema: {
          operationId: 'getWalletBalance',
          tags: ['wallet'],
          summary: 'Balance, available balance and holds',
          params: IdParams,
          response: { 200: BalanceView },
        },
      },
      async (request) => {
        const balance = await service.balance(request.params.id, requirePrincipal(request));
        return {
          currency: balance.currency,
          balance: balance.balance,
          available: balance.available,
          pending_debits: balance.pendingDebits,
          pending_credits: balance.pendingCredits,
        };
      },
    );

    app.get(
      '/api/v1/wallet/wallet/:id/statement',
      {
        config: { access: { permission: 'wallet:read', allowCustomer: true } },
        schema: {
          operationId: 'getWalletStatement',
          tags: ['wallet'],
          summary: 'Statement lines with running balance, oldest first (paginated)',
          params: IdParams,
          querystring: StatementQuery,
          response: { 200: StatementView },
        },
      },
      async (request) => service.statement(request.params.id, request.query, requirePrincipal(request)),
    );

    app.get(
      '/api/v1/wallet/wallet/:id/statement/export',
      {
        config: { access: { permission: 'wallet:read', allowCustomer: true } },
        schema: {
          operationId: 'exportWalletStatement',
          tags: ['wallet'],
          summary: 'The statement of a period as a CSV or PDF attachment',
          description: `Up to ${EXPORT_ROWS} lines; narrow the period for more.`,
          params: IdParams,
          querystring: StatementExportQuery,
          response: {
            200: {
              description: 'The statement as a CSV (UTF-8 with BOM) or PDF attachment',
              content: {
                'text/csv': { schema: { type: 'string' } },
                'application/pdf': { schema: { type: 'string', format: 'binary' } },
              },
            },
          },
        },
      },
      async (request, reply) => {
        const principal = requirePrincipal(request);
        const statement = await service.statement(
          request.params.id,
          { from: request.query.from, to: request.query.to, limit: EXPORT_ROWS },
          principal,
        );
        // A cut-off export would show the last exported line's balance as the period's closing balance.
        if (statement.next_cursor !== null) throw walletErrors.exportTooLarge(EXPORT_ROWS);
        const name = `statement-${statement.wallet_number}`;
        const money = (value: bigint) => formatDecimal(value, statement.currency);
        // Times in the customer's zone: with their offset in the CSV, as people read them in the PDF.
        if (request.query.format === 'csv') {
          const csv = toCsv(
            [
              'posted_at',
              'reference',
              'type',
              'description',
              'narration',
              'direction',
              'amount',
              'balance_after',
              'currency',
            ],
            statement.items.map((line) => [
              line.posted_at_local,
              line.reference,
              line.type,
              line.description,
              line.narration,
              line.direction,
              money(line.amount < 0n ? -line.amount : line.amount),
              money(line.balance_after),
              statement.currency,
            ]),
            { bom: true },
          );
          return reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', `attachment; filename="${name}.csv"`)
            .send(csv);
        }
        const zone = statement.time_zone;
        const now = new Date();
        const wallet = await service.row(request.params.id);
        const [institution, holders] = await Promise.all([
          service.documents.institution(),
          service.documents.ownerNames([wallet]),
        ]);
        const from = request.query.from ? formatLocalTime(new Date(request.query.from), zone) : 'opening';
        const to = formatLocalTime(request.query.to ? new Date(request.query.to) : now, zone);
        const pdf = await renderStatementPdf({
          institution,
          title: 'Wallet statement',
          accountLabel: `Wallet ${statement.wallet_number} (${statement.currency})`,
          holder: holders.get(wallet.id) ?? '-',
          period: `${from} to ${to}`,
          timeZone: zone,
          openingBalance: formatMoney(statement.opening_balance, statement.currency),
          closingBalance: formatMoney(statement.closing_balance, statement.currency),
          columns: [
            { header: 'Date', align: 'left', width: 19 },
            { header: 'Reference', align: 'left', width: 15 },
            { header: 'Details', align: 'left', width: 36 },
            { header: 'Amount', align: 'right', width: 15 },
            { header: 'Balance', align: 'right', width: 15 },
          ],
          rows: statement.items.map((line) => [
            formatLocalTime(new Date(line.posted_at), zone, { zoneName: false }),
            line.reference ?? '',
            line.description,
            money(line.amount),
            money(line.balance_after),
          ]),
          footer: `Generated ${formatLocalTime(now, zone)} (${zone})`,
          generatedAt: now,
        });
        return reply
          .type('application/pdf')
          .header('content-disposition', `attachment; filename="${name}.pdf"`)
          .send(pdf as never);
      },
    );

    for (const [verb, status, summary] of [
      ['freeze', 'frozen', 'Freeze a wallet (no payments in or out)'],
      ['unfreeze', 'active', 'Unfreeze a wallet'],
      ['close', 'closed', 'Close a wallet with a zero balance'],
    ] as const) {
      app.post(
        `/api/v1/wallet/wallet/:id/${verb}`,
        {
          config: { access: { permission: 'wallet:freeze' } },
          schema: {
            operationId: `${verb}Wallet`,
            tags: ['wallet'],
            summary,
            params: IdParams,
            body: StatusChange,
            response: { 200: WalletView },
          },
        },
        async (request) =>
          service.setStatus(request.params.id, status, request.body.reason, contextOf(request)),
      );
    }

    app.get(
      '/api/v1/wallet/product',
      {
        config: { access: { permission: 'wallet:read' } },
        schema: {
          operationId: 'listWalletProducts',
          tags: ['wallet'],
          summary: 'Wallet products with fees, limits and channels',
          response: { 200: ProductList },
        },
      },
      async () => ({ items: await service.products.list() }),
    );

    app.post(
      '/api/v1/wallet/product/add',
      {
        config: { access: { permission: 'wallet:product_manage' } },
        schema: {
          operationId: 'createWalletProduct',
          tags: ['wallet'],
          summary: 'Create a wallet product',
          body: ProductCreate,
          response: { 201: ProductView },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await service.products.create(request.body, contextOf(request))),
    );

    app.patch(
      '/api/v1/wallet/product/:id',
      {
        config: { access: { permission: 'wallet:product_manage' } },
        schema: {
          operationId: 'updateWalletProduct',
          tags: ['wallet'],
          summary: 'Change a wallet product (fees, limits, channels, default, active)',
          params: IdParams,
          body: ProductUpdate,
          response: { 200: ProductView },
        },
      },
      async (request) => service.products.update(request.params.id, request.body, contextOf(request)),
    );
  };
}
