/**
 * Who the other side of a payment is, for receipts and statement lines, when it is not a wallet: a payment module
 * built on the engine (bills) registers a lookup for its transaction type at start-up, so the payment engine names
 * the biller paid without reading the module's tables or depending on it.
 */

import type { TransactionRow } from './transactions.plan.ts';
import type { TransactionType } from './transactions.tables.ts';

/** The counterparty as a receipt shows it: its code and its name. */
export interface Counterparty {
  code: string;
  name: string;
}

/** The counterparty of each record it knows, by transaction id; one call for many records (a statement). */
export type CounterpartyLookup = (records: readonly TransactionRow[]) => Promise<Map<string, Counterparty>>;

export class Counterparties {
  readonly #lookups = new Map<TransactionType, CounterpartyLookup>();

  /** The lookup for one transaction type (registering the type again replaces it). */
  register(type: TransactionType, lookup: CounterpartyLookup): void {
    this.#lookups.set(type, lookup);
  }

  /** The counterparties of the records whose type has a lookup, by transaction id (one call per type). */
  async of(records: readonly TransactionRow[]): Promise<Map<string, Counterparty>> {
    const byType = new Map<CounterpartyLookup, TransactionRow[]>();
    for (const record of records) {
      const lookup = this.#lookups.get(record.type);
      if (lookup) byType.set(lookup, [...(byType.get(lookup) ?? []), record]);
    }
    const found = await Promise.all([...byType].map(([lookup, rows]) => lookup(rows)));
    return new Map(found.flatMap((map) => [...map]));
  }
}
