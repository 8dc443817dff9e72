/**
 * The demo dataset's one route (`POST /api/v1/aml/demo/age-facts`), mounted only outside production: it moves AML's
 * OWN record of a customer's payments (`aml_payment_facts`, the rows the typologies read) back in time, so the
 * "dormant account suddenly active" typology can be shown without waiting half a year. Nothing else moves: the
 * transactions, the ledger and the realtime aggregates keep their times. `aml:rules` (staff) only, audited.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { sql } from 'drizzle-orm';
import { Type } from 'typebox';
import { writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction, rawRows } from '../../platform/db.ts';
import { contextOf } from '../../platform/http.ts';
import type { ModuleContext } from '../../platform/modules.ts';

const AgeFactsBody = Type.Object(
  {
    customer_id: Type.String({ format: 'uuid' }),
    days: Type.Integer({ minimum: 1, maximum: 3650, description: 'How many days back' }),
  },
  { additionalProperties: false },
);

const AgeFactsView = Type.Object({
  customer_id: Type.String({ format: 'uuid' }),
  days: Type.Integer(),
  moved: Type.Integer({ description: 'How many of AML’s payment facts moved back' }),
});

export function demoRoutes(db: Executor): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.post(
      '/api/v1/aml/demo/age-facts',
      {
        config: { access: { permission: 'aml:rules' } },
        schema: {
          operationId: 'ageAmlDemoFacts',
          tags: ['aml'],
          summary: 'Development only: move a customer’s AML payment facts back in time (the demo’s dormancy)',
          description:
            'Not mounted with PRODUCTION=true. Moves the AML module’s own record of every payment the customer ' +
            'paid or received (`aml_payment_facts`) back by `days`, so that the next payment finds the account ' +
            'dormant. Transactions, balances, the ledger and the realtime aggregates are not touched.',
          body: AgeFactsBody,
          response: { 200: AgeFactsView },
        },
      },
      async (request) => {
        const { customer_id: customerId, days } = request.body;
        const moved = await inTransaction(db, async (tx) => {
          const rows = await rawRows<{ transaction_id: string }>(
            tx,
            sql`update aml_payment_facts set occurred_at = occurred_at - make_interval(days => ${days}::int)
                where customer_id = ${customerId}::uuid or counterparty_customer_id = ${customerId}::uuid
                returning transaction_id::text`,
          );
          await writeAudit(tx, contextOf(request), {
            action: 'aml.demo_facts_aged',
            entityType: 'customer',
            entityId: customerId,
            after: { days, moved: rows.length },
          });
          return rows.length;
        });
        return { customer_id: customerId, days, moved };
      },
    );
  };
}

/** The demo's routes for index.ts: none with PRODUCTION=true. */
export function demoAreaRoutes(ctx: ModuleContext): FastifyPluginAsyncTypebox[] {
  return ctx.deps.config.PRODUCTION ? [] : [demoRoutes(ctx.deps.database.db)];
}
