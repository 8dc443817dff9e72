/**
 * The agent network's money under load (issue 19, RELIABILITY properties 1–2 for agents): a seeded random mix of
 * AGENTS_MIX_OPS operations (default 2,000) among 20 agents (two super-agents with six agents each, six on their
 * own; two stores, a teller per store and an agent admin each) and 200 customers, sent by 20 concurrent clients over
 * real HTTP (the app listens on a local port; every request goes through fetch):
 *   cash-in (teller: store float → wallet), cash-out by withdrawal code (the customer makes the code with PIN, the
 *   teller submits it: wallet → store float, the product's withdrawal fee), rebalance (agent admins: agent ↔ store,
 *   store ↔ store, a super-agent ↔ its agents), commission payout (staff, one agent: payable → agent float).
 *
 * Checks:
 *   - every answer is 2xx or a 4xx the operation documents, with a body valid under the document (never a 5xx);
 *   - each float, wallet and commission payable moved by exactly what the accepted answers say (a per-account
 *     model built from the 2xx bodies and the agent_commissions rows of the accepted transactions), and the sum:
 *       Δfloats + Δwallets + Δpayables + Δfee_income:KES + Δtax_payable:KES = Δagent_commission_expense:KES
 *     where Δexpense = Σ commissions accrued on the accepted cash-ins and cash-outs, Δfee_income + Δtax_payable =
 *     Σ (fee + tax) of the accepted cash-outs, Δpayables = Σ commissions − Σ payouts;
 *   - no commission for a transaction that was not accepted, none missing on one that was;
 *   - ledger-verify clean after the roll-up; no float or payable below zero.
 *
 * AGENTS_MIX_OPS sets the size; RELIABILITY_SEED repeats the plan (the interleaving is the machine's).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { and, eq, inArray } from 'drizzle-orm';
import { EXPENSE_SPEC, expenseAccountCode } from '../../src/modules/agents/agents.commissions.ts';
import { agentCommissionPlans, agentCommissions } from '../../src/modules/agents/agents.tables.ts';
import {
  checkerToken,
  fundFloat,
  inside,
  type MoneyAgent,
  moneyAgent,
  randomPhone,
} from '../helpers/agents-money.ts';
import { sharedServices, startTestApp, type TestContext } from '../helpers/app.ts';
import { needsSharedServices } from '../helpers/databases.ts';
import { createCustomer, deposit, openWallet, TEST_PIN } from '../helpers/money.ts';
import { announceSeed, digestOf, Prng, runSeed } from './harness/prng.ts';
import { loadDocument, type Operation, operationsOf, ResponseChecker } from './support/openapi.ts';

const OPS = Number(process.env.AGENTS_MIX_OPS ?? 2000);
const CLIENTS = 20;
const CUSTOMERS = 200;
const STORE_FLOAT = 5_000_000;
const AGENT_FLOAT = 3_000_000;
const WALLET_OPENING = 1_000_000;
assert.ok(Number.isInteger(OPS) && OPS > 0, 'AGENTS_MIX_OPS must be a positive integer');

interface Party {
  agent: MoneyAgent;
  /** The super-agent's index in `parties`, for its agents. */
  parent: number | null;
  children: number[];
}

interface Customer {
  id: string;
  phone: string;
  token: string;
  walletId: string;
}

type Plan =
  | { kind: 'cash_in'; agent: number; store: 0 | 1; customer: number; amount: number }
  | { kind: 'cash_out'; agent: number; store: 0 | 1; customer: number; amount: number }
  | { kind: 'rebalance'; agent: number; from: FloatRef; to: FloatRef; amount: number }
  | { kind: 'payout'; agent: number };

type FloatRef = { agent_id: string } | { store_id: string };

interface Answer {
  operation: Operation;
  status: number;
  body: string;
  headers: Record<string, string>;
}

const sum = (values: bigint[]) => values.reduce((total, value) => total + value, 0n);

if (sharedServices)
  describe('agents: ledger under a concurrent mix of cash-in, cash-out, rebalance and payout', () => {
    const seed = runSeed();
    let t: TestContext;
    let base: string;
    let checker: ResponseChecker;
    const operationsById = new Map<string, Operation>();
    const parties: Party[] = [];
    const customers: Customer[] = [];

    before(async () => {
      announceSeed('agents-ledger', seed);
      const setupStarted = performance.now();
      const elapsed = () => `${((performance.now() - setupStarted) / 1000).toFixed(1)} s`;
      t = await startTestApp();
      const address = (await t.app.listen({ port: 0, host: '127.0.0.1' })) as string | AddressInfo;
      base = typeof address === 'string' ? address : `http://127.0.0.1:${address.port}`;
      const document = await loadDocument(t);
      checker = new ResponseChecker(document);
      for (const operation of operationsOf(document)) operationsById.set(operation.operationId, operation);

      // Owners of the agents (any customer), then two super-agents, six agents under each and six on their own.
      const owners = await inBatches(20, 10, (index) => createCustomer(t, `Owner${index}`, randomPhone()));
      for (const [index, owner] of owners.entries()) {
        const parent = index < 2 ? null : index < 14 ? (index - 2) % 2 : null;
        const agent = await moneyAgent(t, owner.id, {
          kind: index < 2 ? 'super_agent' : 'agent',
          ...(parent === null ? {} : { parentId: parties[parent]!.agent.id }),
        });
        parties.push({ agent, parent, children: [] });
        if (parent !== null) parties[parent]!.children.push(index);
      }
      const targets = parties.flatMap((party) => [
        { target: { agent_id: party.agent.id }, amount: AGENT_FLOAT },
        ...party.agent.stores.map((store) => ({ target: { store_id: store.id }, amount: STORE_FLOAT })),
      ]);
      await checkerToken(t); // made once, before the parallel deposits use it
      await inBatches(targets.length, 10, (index) =>
        fundFloat(t, targets[index]!.target, targets[index]!.amount),
      );
      process.stdout.write(`agents-ledger: agents and floats ready after ${elapsed()}\n`);
      customers.push(
        ...(await inBatches(CUSTOMERS, 20, async (index) => {
          const customer = await createCustomer(t, `Mix${index}`, randomPhone());
          const wallet = await openWallet(t, customer.id);
          await deposit(t, wallet.id, WALLET_OPENING);
          return { ...customer, walletId: wallet.id };
        })),
      );
      process.stdout.write(`agents-ledger: customers ready after ${elapsed()}\n`);
      // Deposits into deferred accounts (the commission payables are) count once rolled up.
      await t.application.ledger.rollUp();
    });

    after(async () => {
      await t?.close();
    });

    async function inBatches<T>(count: number, width: number, make: (index: number) => Promise<T>) {
      const made: T[] = [];
      for (let start = 0; start < count; start += width) {
        const indexes = Array.from({ length: Math.min(width, count - start) }, (_, i) => start + i);
        made.push(...(await Promise.all(indexes.map(make))));
      }
      return made;
    }

    function planOf(prng: Prng): Plan[] {
      const plans: Plan[] = [];
      for (let index = 0; index < OPS; index += 1) {
        const roll = prng.next();
        const agent = prng.int(0, parties.length - 1);
        const party = parties[agent]!;
        const store = prng.int(0, 1) as 0 | 1;
        if (roll < 0.4) {
          plans.push({
            kind: 'cash_in',
            agent,
            store,
            customer: prng.int(0, CUSTOMERS - 1),
            amount: prng.int(1_000, 200_000),
          });
        } else if (roll < 0.75) {
          plans.push({
            kind: 'cash_out',
            agent,
            store,
            customer: prng.int(0, CUSTOMERS - 1),
            amount: prng.int(1_000, 300_000),
          });
        } else if (roll < 0.93) {
          const own: FloatRef = { agent_id: party.agent.id };
          const stores: FloatRef[] = party.agent.stores.map((item) => ({ store_id: item.id }));
          const pairs: [FloatRef, FloatRef][] = [
            [own, stores[0]!],
            [stores[0]!, own],
            [own, stores[1]!],
            [stores[1]!, own],
            [stores[0]!, stores[1]!],
            [stores[1]!, stores[0]!],
          ];
          for (const child of party.children) {
            const theirs: FloatRef = { agent_id: parties[child]!.agent.id };
            pairs.push([own, theirs], [theirs, own]);
          }
          const [from, to] = prng.pick(pairs);
          plans.push({ kind: 'rebalance', agent, from, to, amount: prng.int(1_000, 1_000_000) });
        } else {
          plans.push({ kind: 'payout', agent });
        }
      }
      return plans;
    }

    async function call(
      operationId: string,
      method: 'GET' | 'POST',
      path: string,
      token: string,
      body?: object,
    ): Promise<Answer> {
      const operation = operationsById.get(operationId);
      assert.ok(operation, `${operationId} is documented`);
      const headers: Record<string, string> = { authorization: `Bearer ${token}` };
      if (body) headers['content-type'] = 'application/json';
      if (method === 'POST') headers['idempotency-key'] = `mix-${randomUUID()}`;
      const response = await fetch(`${base}${path}`, {
        method,
        headers,
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(60_000),
      });
      return {
        operation,
        status: response.status,
        body: await response.text(),
        headers: Object.fromEntries(response.headers),
      };
    }

    test('a seeded mix by 20 clients: 2xx or documented 4xx, exact per-account movements, ledger-verify clean', {
      timeout: 15 * 60_000,
    }, async () => {
      const ledger = t.application.ledger;
      const db = t.deps.database.db;
      const plan = planOf(Prng.derive(seed, 'agents-mix'));
      // The plan's digest names floats by position (ids are new each run): equal digests, the same operations.
      const labels = new Map<string, string>();
      for (const [index, party] of parties.entries()) {
        labels.set(party.agent.id, `agent${index}`);
        for (const [slot, store] of party.agent.stores.entries())
          labels.set(store.id, `agent${index}.store${slot}`);
      }
      const portable = JSON.parse(JSON.stringify(plan), (_key, value) => labels.get(value) ?? value);
      process.stdout.write(
        `agents-ledger: ${OPS} operations (plan ${digestOf(portable).slice(0, 16)}), ${CLIENTS} clients, ` +
          `${parties.length} agents, ${CUSTOMERS} customers\n`,
      );

      // Every account the mix can move, and the house accounts its postings use.
      const floats = parties.flatMap((party) => [
        party.agent.floatAccountId,
        ...party.agent.stores.map((store) => store.floatAccountId),
      ]);
      const payableOf = new Map<string, string>();
      for (const party of parties) {
        const view = await t.app.inject({
          method: 'GET',
          url: `/api/v1/agent/agent/${party.agent.id}`,
          headers: { authorization: `Bearer ${t.adminToken}` },
        });
        assert.equal(view.statusCode, 200, view.body);
        payableOf.set(party.agent.id, view.json().commission_account_id as string);
      }
      const payables = [...payableOf.values()];
      const wallets = customers.map((customer) => customer.walletId);
      const house = {
        expense: await ledger.houseAccount(expenseAccountCode('KES'), EXPENSE_SPEC),
        fee: await ledger.houseAccount('fee_income:KES'),
        tax: await ledger.houseAccount('tax_payable:KES'),
      };
      const tracked = [...floats, ...payables, ...wallets, house.expense, house.fee, house.tax];
      const balances = async () => {
        const read = new Map<string, bigint>();
        for (const id of tracked) read.set(id, (await ledger.balance(id)).balance);
        return read;
      };
      const opening = await balances();

      // Expected movement per account, from the accepted answers.
      const expected = new Map<string, bigint>(tracked.map((id) => [id, 0n]));
      const move = (account: string, amount: bigint) =>
        expected.set(account, (expected.get(account) ?? 0n) + amount);
      const floatIdOf = (ref: FloatRef): string => {
        for (const party of parties) {
          if ('agent_id' in ref && ref.agent_id === party.agent.id) return party.agent.floatAccountId;
          for (const store of party.agent.stores)
            if ('store_id' in ref && ref.store_id === store.id) return store.floatAccountId;
        }
        throw new Error(`unknown float ${JSON.stringify(ref)}`);
      };

      const answers: { kind: Plan['kind']; answer: Answer }[] = [];
      const refused = new Map<string, number>();
      const accepted = new Map<Plan['kind'], number>();
      /** Accepted cash transactions: id → the agent whose store acted, the type and the amount. */
      const cashTransactions = new Map<
        string,
        { agentId: string; type: 'cash_in' | 'cash_out'; amount: bigint }
      >();
      let fees = 0n;
      let payouts = 0n;

      const run = async (step: Plan) => {
        const party = parties[step.agent]!;
        const record = (answer: Answer) => {
          answers.push({ kind: step.kind, answer });
          if (answer.status >= 400) {
            let code = '';
            try {
              code = String(JSON.parse(answer.body).error_code ?? '');
            } catch {}
            const label = `${answer.operation.operationId} ${answer.status} ${code}`;
            refused.set(label, (refused.get(label) ?? 0) + 1);
          }
          return answer;
        };
        const ok = (answer: Answer, status: number) => answer.status === status;
        switch (step.kind) {
          case 'cash_in': {
            const customer = customers[step.customer]!;
            const store = party.agent.stores[step.store];
            const answer = record(
              await call('agentCashIn', 'POST', '/api/v1/agent/transaction/cash-in', store.tellerToken, {
                phone: customer.phone,
                amount: step.amount,
                currency: 'KES',
                location: inside(),
              }),
            );
            if (!ok(answer, 201)) return;
            const body = JSON.parse(answer.body);
            assert.equal(BigInt(body.amount), BigInt(step.amount));
            move(store.floatAccountId, -BigInt(body.amount));
            move(customer.walletId, BigInt(body.amount));
            cashTransactions.set(body.id, {
              agentId: party.agent.id,
              type: 'cash_in',
              amount: BigInt(body.amount),
            });
            break;
          }
          case 'cash_out': {
            const customer = customers[step.customer]!;
            const store = party.agent.stores[step.store];
            const made = record(
              await call(
                'createAgentWithdrawalCode',
                'POST',
                '/api/v1/agent/withdrawal-code',
                customer.token,
                {
                  agent_number: party.agent.number,
                  amount: step.amount,
                  currency: 'KES',
                  pin: TEST_PIN,
                },
              ),
            );
            if (!ok(made, 201)) return;
            const answer = record(
              await call('agentCashOut', 'POST', '/api/v1/agent/transaction/cash-out', store.tellerToken, {
                phone: customer.phone,
                amount: step.amount,
                currency: 'KES',
                code: JSON.parse(made.body).code,
                location: inside(),
              }),
            );
            if (!ok(answer, 201)) return;
            const body = JSON.parse(answer.body);
            const charged = BigInt(body.fee) + BigInt(body.tax);
            move(customer.walletId, -(BigInt(body.amount) + charged));
            move(store.floatAccountId, BigInt(body.amount));
            move(house.fee, BigInt(body.fee));
            move(house.tax, BigInt(body.tax));
            fees += charged;
            cashTransactions.set(body.id, {
              agentId: party.agent.id,
              type: 'cash_out',
              amount: BigInt(body.amount),
            });
            break;
          }
          case 'rebalance': {
            const answer = record(
              await call(
                'rebalanceAgentFloat',
                'POST',
                '/api/v1/agent/float/rebalance',
                party.agent.adminToken,
                {
                  from: step.from,
                  to: step.to,
                  amount: step.amount,
                },
              ),
            );
            if (!ok(answer, 201)) return;
            move(floatIdOf(step.from), -BigInt(step.amount));
            move(floatIdOf(step.to), BigInt(step.amount));
            break;
          }
          case 'payout': {
            const answer = record(
              await call(
                'runAgentCommissionPayout',
                'POST',
                '/api/v1/agent/commission/payout',
                t.adminToken,
                {
                  agent_id: party.agent.id,
                },
              ),
            );
            if (!ok(answer, 200)) return;
            for (const paid of JSON.parse(answer.body).payouts as {
              agent_id: string;
              amount_minor: string;
              destination: string;
            }[]) {
              assert.equal(paid.destination, 'float', 'the default plan pays into the float');
              const payee = parties.find((item) => item.agent.id === paid.agent_id)!;
              move(payableOf.get(paid.agent_id)!, -BigInt(paid.amount_minor));
              move(payee.agent.floatAccountId, BigInt(paid.amount_minor));
              payouts += BigInt(paid.amount_minor);
            }
            break;
          }
        }
        accepted.set(step.kind, (accepted.get(step.kind) ?? 0) + 1);
      };

      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: CLIENTS }, async () => {
          while (next < plan.length) {
            const step = plan[next]!;
            next += 1;
            await run(step);
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      process.stdout.write(
        `agents-ledger: ${plan.length} operations in ${seconds.toFixed(1)} s; accepted ${JSON.stringify(
          Object.fromEntries(accepted),
        )}; refused ${JSON.stringify(Object.fromEntries(refused))}\n`,
      );

      // Every answer: never a 5xx, a documented status with a body valid under the document.
      const problems: string[] = [];
      for (const { answer } of answers) {
        if (answer.status >= 500) problems.push(`${answer.operation.key} ${answer.status} ${answer.body}`);
        else if (answer.status >= 300 && answer.status < 400)
          problems.push(`${answer.operation.key} ${answer.status}`);
        const verdict = checker.check(answer.operation, { ...answer, statusCode: answer.status });
        if (!verdict.ok)
          problems.push(`${answer.operation.key}: ${verdict.problem} ${answer.body.slice(0, 200)}`);
      }
      assert.deepEqual(problems.slice(0, 20), [], `${problems.length} answers outside the document`);
      // A mix that refused everything proves nothing: most of each kind goes through.
      for (const kind of ['cash_in', 'cash_out', 'rebalance'] as const) {
        const planned = plan.filter((step) => step.kind === kind).length;
        assert.ok(
          (accepted.get(kind) ?? 0) >= planned / 2,
          `${kind}: ${accepted.get(kind) ?? 0} of ${planned} accepted`,
        );
      }

      // Commissions: exactly the rows the default plan gives the accepted cash transactions (re-computed here:
      // fixed + amount × bps / 10000 rounded down, the super-agent's share rounded down, the agent the rest), and
      // none for a refused one.
      await ledger.rollUp();
      const [defaultPlan] = await db
        .select()
        .from(agentCommissionPlans)
        .where(and(eq(agentCommissionPlans.isDefault, true), eq(agentCommissionPlans.currency, 'KES')));
      assert.ok(defaultPlan, 'the KES default plan is seeded');
      const commissionOf = (type: 'cash_in' | 'cash_out', amount: bigint): bigint => {
        for (const band of defaultPlan.rules[type] ?? []) {
          if (amount < BigInt(band.from_minor)) return 0n;
          if (band.to_minor === null || amount <= BigInt(band.to_minor))
            return BigInt(band.fixed_minor) + (amount * BigInt(band.percent_bps)) / 10_000n;
        }
        return 0n;
      };
      const modelRows = new Map<string, bigint>();
      for (const [transactionId, cash] of cashTransactions) {
        const total = commissionOf(cash.type, cash.amount);
        const party = parties.find((item) => item.agent.id === cash.agentId)!;
        const superShare =
          party.parent === null ? 0n : (total * BigInt(defaultPlan.superAgentShareBps)) / 10_000n;
        if (total - superShare > 0n) modelRows.set(`${transactionId} ${cash.agentId}`, total - superShare);
        if (superShare > 0n)
          modelRows.set(`${transactionId} ${parties[party.parent!]!.agent.id}`, superShare);
      }
      const rows = await db.select().from(agentCommissions);
      const stored = new Map(rows.map((row) => [`${row.transactionId} ${row.agentId}`, row.amountMinor]));
      const commissionDiff = [
        ...[...modelRows]
          .filter(([key, amount]) => stored.get(key) !== amount)
          .map(([key, amount]) => `${key}: expected ${amount}, stored ${stored.get(key) ?? 'none'}`),
        ...[...stored]
          .filter(([key]) => !modelRows.has(key))
          .map(([key, amount]) => `${key}: stored ${amount}, expected none`),
      ];
      assert.deepEqual(
        commissionDiff.slice(0, 20),
        [],
        `${commissionDiff.length} commissions differ from the plan`,
      );
      assert.ok(modelRows.size > 0, 'the mix earned commissions');
      for (const row of rows) {
        assert.equal(row.currency, 'KES');
        assert.notEqual(row.status, 'clawed_back');
        assert.equal(row.sourceAgentId, cashTransactions.get(row.transactionId)!.agentId);
        move(payableOf.get(row.agentId)!, row.amountMinor);
        move(house.expense, row.amountMinor);
      }
      const commissions = sum(rows.map((row) => row.amountMinor));
      const paidRows = await db
        .select()
        .from(agentCommissions)
        .where(inArray(agentCommissions.status, ['paid']));
      assert.equal(sum(paidRows.map((row) => row.amountMinor)), payouts, 'paid rows = what the payouts paid');

      // Per account: each moved by exactly what the accepted answers say.
      const closing = await balances();
      const mismatches = tracked
        .map((id) => ({
          id,
          moved: closing.get(id)! - opening.get(id)!,
          expected: expected.get(id)!,
        }))
        .filter((item) => item.moved !== item.expected)
        .map((item) => `${item.id}: moved ${item.moved}, expected ${item.expected}`);
      assert.deepEqual(mismatches, []);

      // The sum, written from the ledger accounts (liabilities and income credit-normal, the expense debit-normal).
      const delta = (ids: string[]) => sum(ids.map((id) => closing.get(id)! - opening.get(id)!));
      const dFloats = delta(floats);
      const dWallets = delta(wallets);
      const dPayables = delta(payables);
      const dFee = delta([house.fee]);
      const dTax = delta([house.tax]);
      const dExpense = delta([house.expense]);
      assert.equal(dFloats + dWallets + dPayables + dFee + dTax, dExpense, 'money is conserved');
      assert.equal(dExpense, commissions, 'the expense moved by the commissions accrued');
      assert.equal(dFee + dTax, fees, 'fee income and duty moved by the fees charged');
      assert.equal(dPayables, commissions - payouts, 'payables hold what accrued less what was paid');
      process.stdout.write(
        `agents-ledger: Δfloats ${dFloats} + Δwallets ${dWallets} + Δpayables ${dPayables} + Δfee ${dFee} + ` +
          `Δtax ${dTax} = Δexpense ${dExpense} (${rows.length} commissions, payouts ${payouts})\n`,
      );

      for (const id of [...floats, ...payables]) {
        assert.ok(closing.get(id)! >= 0n, `account ${id} is not negative: ${closing.get(id)}`);
      }
      const verification = await ledger.verify();
      assert.ok(verification.ok, JSON.stringify(verification));
      assert.deepEqual(verification.negativeGuarded, []);
    });
  });
else
  test('agents: ledger under a concurrent mix of cash-in, cash-out, rebalance and payout', {
    skip: needsSharedServices,
  }, () => {});
