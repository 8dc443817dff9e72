/**
 * The agents module's part in a customer's erasure (the customers module's `addErasureCheck`, wired in index.ts): a
 * customer who owns an agent that is not closed is not erased (the agent's KYB rests on its owner, and its float and
 * commissions are paid out to them at closure). Their withdrawal codes and cash-out requests do not refuse it: they
 * expire within minutes (15 and 5), and the records stay as part of the transactions they led to.
 */
import { and, eq, ne } from 'drizzle-orm';
import type { Executor } from '../../platform/db.ts';
import { agents } from './agents.tables.ts';

/** One reason per agent the customer owns that is not closed; on `tx` only. */
export async function agentErasureObligations(tx: Executor, customerId: string): Promise<string[]> {
  const owned = await tx
    .select({ number: agents.agentNumber, status: agents.status })
    .from(agents)
    .where(and(eq(agents.ownerCustomerId, customerId), ne(agents.status, 'closed')))
    .orderBy(agents.agentNumber);
  return owned.map((agent) => `owns agent ${agent.number} (${agent.status}): close it first`);
}
