/**
 * What the AML demo dataset raised, read back through the analysts' routes (`/api/v1/aml/cases`): for each
 * expectation (a typology or rule on a subject of the dataset) the alerts of that pattern and the cases holding them,
 * and a printable table.
 */
import type { DemoClient } from './aml.demo.http.ts';

export interface DemoExpectation {
  /** The rule, scenario or screening pattern the alerts carry. */
  pattern: string;
  /** The customer (or, for float cycling, the agent) the alert is about. */
  subject: string;
  /** What the dataset did, for the table. */
  what: string;
}

export interface DemoTally extends DemoExpectation {
  alerts: number;
  cases: string[];
}

interface CaseItem {
  id: string;
  reference: string;
  customer_id: string | null;
  agent_id: string | null;
}
interface CaseAlerts {
  reference: string;
  alerts: { pattern: string; customer_id: string | null; agent_id: string | null }[];
}

/** Every case of the subjects (customer or agent), with its alerts. */
async function casesOf(client: DemoClient, subject: string): Promise<CaseAlerts[]> {
  const found: CaseAlerts[] = [];
  for (const filter of ['customer_id', 'agent_id']) {
    let cursor: string | null = null;
    do {
      const query = `${filter}=${subject}&include_snoozed=true&limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const page: { items: CaseItem[]; next_cursor: string | null } = await client.staffCall(
        'GET',
        `/api/v1/aml/cases?${query}`,
      );
      for (const item of page.items)
        found.push(await client.staffCall<CaseAlerts>('GET', `/api/v1/aml/cases/${item.id}`));
      cursor = page.next_cursor;
    } while (cursor);
  }
  return found;
}

export async function tallyAlerts(
  client: DemoClient,
  expectations: readonly DemoExpectation[],
  subjects: readonly string[],
): Promise<DemoTally[]> {
  const bySubject = new Map<string, CaseAlerts[]>();
  for (const subject of subjects) bySubject.set(subject, await casesOf(client, subject));
  return expectations.map((expectation) => {
    let alerts = 0;
    const cases = new Set<string>();
    for (const found of bySubject.get(expectation.subject) ?? []) {
      const mine = found.alerts.filter(
        (alert) =>
          alert.pattern === expectation.pattern &&
          (alert.customer_id === expectation.subject || alert.agent_id === expectation.subject),
      );
      alerts += mine.length;
      if (mine.length > 0) cases.add(found.reference);
    }
    return { ...expectation, alerts, cases: [...cases] };
  });
}

/** The table the CLI prints: pattern, what the dataset did, alerts, cases. */
export function formatTally(rows: readonly DemoTally[]): string {
  const header = ['typology / rule', 'dataset', 'alerts', 'cases'];
  const lines = rows.map((row) => [
    row.pattern,
    row.what,
    String(row.alerts),
    row.cases.length > 0 ? row.cases.join(' ') : 'NONE',
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...lines.map((line) => line[column]!.length)),
  );
  const format = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  return [format(header), format(widths.map((width) => '-'.repeat(width))), ...lines.map(format)].join('\n');
}
