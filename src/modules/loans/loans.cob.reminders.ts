/**
 * Due-date reminders raised by close of business: 3 days before an instalment's due date, on the day, and 1 and 7
 * days after while it is unpaid, in the customer's language (templates `loan.reminder.*` in en, fr and sw, seeded
 * from `seed/template_seed.json` of this module through the notifications module's TemplatesService). Each is
 * recorded in `loan_reminders_sent` (loan, instalment, kind) in the same transaction as the message is queued, so a
 * rerun or a resumed run never sends one twice.
 */
import { join } from 'node:path';
import type { Executor } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { formatMoney } from '../../platform/money.ts';
import { type NotificationsService, TemplatesService } from '../notifications/index.ts';
import { addDays, daysBetween } from './loans.calendar.ts';
import { type LoanDayOutcome, unpaidOf } from './loans.cob.loan.ts';
import { loanRemindersSent, type ReminderKind } from './loans.cob.tables.ts';

/** The directory holding this module's `template_seed.json`. */
export const LOANS_SEED_DIR = join(import.meta.dirname, 'seed');

/** Adds the loan templates that do not exist yet (staff edits survive). */
export async function seedLoanTemplates(deps: Dependencies): Promise<void> {
  await new TemplatesService(deps.database.db).seed(LOANS_SEED_DIR);
}

/** Days from the due date to the reminder (negative: before it). */
export const REMINDER_OFFSETS: Readonly<Record<ReminderKind, number>> = {
  before_3: -3,
  due: 0,
  after_1: 1,
  after_7: 7,
};

const TEMPLATES: Readonly<Record<ReminderKind, string>> = {
  before_3: 'loan.reminder.upcoming',
  due: 'loan.reminder.due',
  after_1: 'loan.reminder.overdue',
  after_7: 'loan.reminder.overdue',
};

/**
 * The reminders whose date falls in (previous close, date] for unpaid instalments. A reminder ahead of a due date
 * that has passed meanwhile (a close that catches up several days) is not sent late.
 */
export function remindersDue(
  outcome: Pick<LoanDayOutcome, 'instalments' | 'previous'>,
  date: string,
): { seq: number; kind: ReminderKind; dueDate: string; unpaid: bigint }[] {
  const due: { seq: number; kind: ReminderKind; dueDate: string; unpaid: bigint }[] = [];
  for (const row of outcome.instalments) {
    const unpaid = unpaidOf(row);
    if (unpaid <= 0n) continue;
    for (const [kind, offset] of Object.entries(REMINDER_OFFSETS) as [ReminderKind, number][]) {
      const on = addDays(row.dueDate, offset);
      if (on <= outcome.previous || on > date) continue;
      if (offset <= 0 && row.dueDate < date) continue;
      due.push({ seq: row.seq, kind, dueDate: row.dueDate, unpaid });
    }
  }
  return due;
}

/** Records and queues the reminders due for the loan on `date`; returns how many were queued. */
export async function sendReminders(
  tx: Executor,
  notifications: NotificationsService,
  outcome: LoanDayOutcome,
  date: string,
): Promise<number> {
  let sent = 0;
  const { loan } = outcome;
  for (const reminder of remindersDue(outcome, date)) {
    const [recorded] = await tx
      .insert(loanRemindersSent)
      .values({ loanId: loan.id, seq: reminder.seq, kind: reminder.kind, date })
      .onConflictDoNothing()
      .returning({ seq: loanRemindersSent.seq });
    if (!recorded) continue;
    const variables: Record<string, string> = {
      number: loan.number,
      amount: formatMoney(reminder.unpaid, loan.currency),
      due_date: reminder.dueDate,
    };
    if (reminder.kind === 'after_1' || reminder.kind === 'after_7')
      variables.days = String(daysBetween(reminder.dueDate, date));
    await notifications.queue(tx, {
      recipient: { type: 'customer', id: loan.customerId },
      template: TEMPLATES[reminder.kind],
      variables,
      dedupeKey: `loan-reminder:${loan.id}:${reminder.seq}:${reminder.kind}`,
      data: { kind: 'loan_reminder', loan_id: loan.id },
      createdBy: { type: 'system', id: null },
    });
    sent += 1;
  }
  return sent;
}
