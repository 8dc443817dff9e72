/**
 * The topics the payment engine publishes. `transaction.completed` is written by `payment_commit` (migration 0024)
 * on the one-call path, which inserts the row with the column's default version (1): a new version of this topic
 * must also be passed there.
 */
import { Type } from 'typebox';
import { defineTopic, MinorUnits, Nullable } from '../../platform/events.ts';
import { TRANSACTION_TYPE_PATTERN } from '../../platform/transaction-types.ts';

export const transactionCompleted = defineTopic(
  'transaction.completed',
  1,
  Type.Object(
    {
      transaction_id: Type.String(),
      reference: Type.String(),
      type: Type.String({
        pattern: TRANSACTION_TYPE_PATTERN,
        examples: ['p2p'],
        description:
          'A transaction type (`^[a-z][a-z0-9_]*$`), declared by the module that records it: `p2p`, `bill`, `cash_in` …',
      }),
      amount: MinorUnits({ description: 'What the payer sent, in minor units of `currency`.' }),
      currency: Type.String(),
      fee: MinorUnits(),
      tax: MinorUnits(),
      source_wallet_id: Nullable(Type.String()),
      destination_wallet_id: Nullable(Type.String()),
      source_customer_id: Nullable(Type.String({ description: 'The paying customer.' })),
      destination_customer_id: Nullable(Type.String({ description: 'The receiving customer, if a person.' })),
      merchant_id: Nullable(Type.String()),
      biller_id: Nullable(Type.String()),
      bill_reference: Nullable(Type.String({ description: 'The account or meter number a bill paid.' })),
      bank_account_id: Type.Optional(
        Nullable(Type.String({ description: 'Bank top-ups and withdrawals: the linked account.' })),
      ),
    },
    { additionalProperties: false },
  ),
  'A payment settled: parties and amounts, for alerts, AML and webhooks.',
);

/** The same parties and amounts as `transaction.completed`: a payment held for AML review (nothing credited yet). */
export const transactionHeld = defineTopic(
  'transaction.held',
  1,
  transactionCompleted.schema,
  "A payment was held for compliance review: the payer's funds are reserved, the payee has nothing yet.",
);

/** A held payment that staff rejected: its hold was voided, the payer's funds are free again. */
export const transactionRejected = defineTopic(
  'transaction.rejected',
  1,
  transactionCompleted.schema,
  'A payment held for compliance review was rejected: its hold was voided and nothing moved.',
);

export const transactionTopics = [transactionCompleted, transactionHeld, transactionRejected];
