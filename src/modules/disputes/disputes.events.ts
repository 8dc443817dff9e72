/** The topics disputes publishes: a payment reversed by staff, and a dispute's life (opened, investigating, resolved). */
import { Type } from 'typebox';
import { defineTopic, MinorUnits, Nullable } from '../../platform/events.ts';

export const transactionReversed = defineTopic(
  'transaction.reversed',
  1,
  Type.Object(
    {
      transaction_id: Type.String({ description: 'The original payment.' }),
      reference: Type.String(),
      reversal_transaction_id: Type.String(),
      reversal_reference: Type.String(),
      type: Type.String({ description: "The original's transaction type." }),
      amount: MinorUnits(),
      fee: MinorUnits(),
      tax: MinorUnits(),
      currency: Type.String(),
      reason: Type.String(),
      source_customer_id: Nullable(Type.String({ description: 'The payer, who gets the money back.' })),
      destination_customer_id: Nullable(Type.String({ description: 'The receiving customer, if a person.' })),
      merchant_id: Nullable(Type.String()),
      requested_by: Type.String({ description: 'The staff user who asked (maker).' }),
      approved_by: Nullable(Type.String({ description: 'The staff user who approved (checker).' })),
    },
    { additionalProperties: false },
  ),
  'A completed payment was reversed (maker-checker).',
);

/** Both sides of the disputed payment, in every dispute event. */
const parties = {
  dispute_id: Type.String(),
  transaction_id: Type.String(),
  reference: Type.String(),
  payer_customer_id: Nullable(Type.String()),
  recipient_customer_id: Nullable(Type.String()),
  merchant_id: Nullable(Type.String()),
  biller_id: Nullable(Type.String()),
};

export const disputeOpened = defineTopic(
  'dispute.opened',
  1,
  Type.Object(
    {
      ...parties,
      reason: Type.String(),
      amount: MinorUnits(),
      currency: Type.String(),
      held_amount: MinorUnits({ description: "What could be held of the recipient's balance." }),
      opened_by: Type.Object({ type: Type.String(), id: Type.String() }),
    },
    { additionalProperties: false },
  ),
  'A payer disputed a payment; what the recipient still had of it is on hold.',
);

export const disputeInvestigating = defineTopic(
  'dispute.investigating',
  1,
  Type.Object({ ...parties, investigator_id: Type.String() }, { additionalProperties: false }),
  'Staff started investigating a dispute.',
);

export const disputeResolved = defineTopic(
  'dispute.resolved',
  1,
  Type.Object(
    {
      ...parties,
      outcome: Type.Union([Type.Literal('refund'), Type.Literal('reject')]),
      status: Type.Union([Type.Literal('refunded'), Type.Literal('rejected')]),
      amount: MinorUnits(),
      currency: Type.String(),
      refunded_amount: MinorUnits({ description: 'What went back to the payer (0 on a rejection).' }),
      released_amount: MinorUnits({ description: 'What was released from hold to the recipient.' }),
      refund_transaction_id: Nullable(Type.String()),
      resolution: Type.String(),
    },
    { additionalProperties: false },
  ),
  'A dispute was refunded or rejected.',
);

export const disputeTopics = [transactionReversed, disputeOpened, disputeInvestigating, disputeResolved];
