/**
 * Curated request and response examples of the main journeys, by operationId: staff login, customer, KYC, wallet,
 * cash-in, PIN, customer login, P2P transfer, receipt and dispute. A response example is laid over the one built
 * from the schema (fields it does not name keep their built values). The OpenAPI test validates every example
 * against its operation's schema, so they cannot drift from the API.
 */
import type { OperationExamples } from './platform/api-contract.ts';

const CUSTOMER_ID = '0193a1c2-7d4e-7f10-8a2b-5c6d7e8f9a01';
const WALLET_ID = '0193a1c2-7d4e-7f10-8a2b-5c6d7e8f9a02';
const PAYEE_WALLET_ID = '0193a1c2-7d4e-7f10-8a2b-5c6d7e8f9a03';
const APPLICATION_ID = '0193a1c2-7d4e-7f10-8a2b-5c6d7e8f9a04';
const DOCUMENT_ID = '0193a1c2-7d4e-7f10-8a2b-5c6d7e8f9a05';
const TRANSFER_ID = '0193a1c2-7d4e-7f10-8a2b-5c6d7e8f9a06';
const DEPOSIT_ID = '0193a1c2-7d4e-7f10-8a2b-5c6d7e8f9a07';
const DISPUTE_ID = '0193a1c2-7d4e-7f10-8a2b-5c6d7e8f9a08';
const STAFF_ID = '0193a1c2-7d4e-7f10-8a2b-5c6d7e8f9a09';
const PAYEE_ID = '0193a1c2-7d4e-7f10-8a2b-5c6d7e8f9a0a';
const AT = '2026-03-14T09:26:53.000Z';

const TOKENS = {
  access_token: 'eyJhbGciOiJFZERTQSIsImtpZCI6IjIwMjYtMDMifQ.eyJzdWIiOiIuLi4ifQ.c2lnbmF0dXJl',
  refresh_token: 'rt_9kQ2mV7xL4pN8sT1wZ6yB3cF5hJ0dG2a',
  token_type: 'bearer',
  expires_in: 900,
  refresh_expires_in: 2592000,
};

const APPLICATION = {
  id: APPLICATION_ID,
  customer_id: CUSTOMER_ID,
  from_tier: 'basic',
  target_tier: 'standard',
  initiated_by: { type: 'user', id: STAFF_ID },
  created_at: AT,
};

const TRANSFER = {
  id: TRANSFER_ID,
  type: 'p2p',
  status: 'completed',
  channel: 'mobile',
  amount: 150000,
  currency: 'KES',
  fee: 2500,
  tax: 375,
  total: 152875,
  amount_display: 'KES 1,500.00',
  total_display: 'KES 1,528.75',
  destination_amount: 150000,
  destination_currency: 'KES',
  customer_id: CUSTOMER_ID,
  source_wallet_id: WALLET_ID,
  destination_wallet_id: PAYEE_WALLET_ID,
  counterparty_customer_id: PAYEE_ID,
  narration: 'Rent share, March',
  initiated_by: { type: 'customer', id: CUSTOMER_ID },
  history: [
    { state: 'initiated', at: AT },
    { state: 'completed', at: AT },
  ],
  created_at: AT,
  completed_at: AT,
};

export const API_EXAMPLES: Record<string, OperationExamples> = {
  // Staff login.
  login: {
    request: { username: 'teller.wanjiru', password: 'correct horse battery staple 42' },
    responses: { 200: TOKENS },
  },
  // Customer registration.
  createCustomer: {
    request: {
      first_name: 'Amina',
      last_name: 'Otieno',
      phone: '+254712345678',
      email: 'amina.otieno@example.com',
      date_of_birth: '1990-05-17',
      national_id: '27845190',
      nationality: 'KE',
    },
    responses: {
      201: {
        id: CUSTOMER_ID,
        first_name: 'Amina',
        last_name: 'Otieno',
        phone: '+254712345678',
        email: 'amina.otieno@example.com',
        national_id: '****5190',
        date_of_birth: '****-**-17',
        status: 'pending',
        kyc_tier: 'basic',
        registered_by: { type: 'user', id: STAFF_ID },
      },
    },
  },
  // KYC: start an upgrade, upload its documents, submit, review.
  initiateKyc: {
    request: { customer_id: CUSTOMER_ID, target_tier: 'standard' },
    responses: {
      200: {
        application: { ...APPLICATION, status: 'open', decided_by: null, decided_at: null, reason: null },
        checklist: [
          { kind: 'document', code: 'national_id', satisfied: false },
          { kind: 'verification', code: 'phone_verified', satisfied: true },
        ],
      },
    },
  },
  uploadDocument: {
    request: { customer_id: CUSTOMER_ID, document_type: 'national_id', file: '(the PDF, JPEG or PNG bytes)' },
    responses: {
      201: {
        id: DOCUMENT_ID,
        customer_id: CUSTOMER_ID,
        document_type: 'national_id',
        status: 'pending',
        mime_type: 'image/jpeg',
        size_bytes: 245761,
        sha256: '3f7c2e8a9b10d4c5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d',
        uploaded_by: { type: 'user', id: STAFF_ID },
        reviewed_by: null,
        reviewed_at: null,
        review_reason: null,
        expires_at: null,
      },
    },
  },
  submitKyc: {
    request: { application_id: APPLICATION_ID },
    responses: {
      200: { ...APPLICATION, status: 'submitted', decided_by: null, decided_at: null, reason: null },
    },
  },
  reviewKyc: {
    request: { application_id: APPLICATION_ID, decision: 'approve' },
    responses: {
      200: { ...APPLICATION, status: 'approved', decided_by: STAFF_ID, decided_at: AT, reason: null },
    },
  },
  // A wallet, and cash paid in at a branch.
  createWallet: {
    request: { customer_id: CUSTOMER_ID, currency: 'KES' },
    responses: {
      201: {
        id: WALLET_ID,
        wallet_number: '100000000017',
        owner_type: 'customer',
        customer_id: CUSTOMER_ID,
        merchant_id: null,
        currency: 'KES',
        status: 'active',
        status_reason: null,
        balance: 0,
        available_balance: 0,
        pending_debits: 0,
        pending_credits: 0,
        balance_display: 'KES 0.00',
        available_balance_display: 'KES 0.00',
      },
    },
  },
  depositCash: {
    request: {
      wallet_id: WALLET_ID,
      amount: 500000,
      currency: 'KES',
      narration: 'Cash in at Moi Avenue branch',
    },
    responses: {
      201: {
        ...TRANSFER,
        id: DEPOSIT_ID,
        type: 'cash_deposit',
        channel: 'web',
        amount: 500000,
        fee: 0,
        tax: 0,
        total: 500000,
        amount_display: 'KES 5,000.00',
        total_display: 'KES 5,000.00',
        destination_amount: 500000,
        source_wallet_id: null,
        destination_wallet_id: WALLET_ID,
        counterparty_customer_id: null,
        narration: 'Cash in at Moi Avenue branch',
        initiated_by: { type: 'user', id: STAFF_ID },
      },
    },
  },
  // The customer's PIN (set by staff), then the customer signs in with it.
  setCustomerPin: { request: { customer_id: CUSTOMER_ID, pin: '4821' } },
  customerLogin: {
    request: { phone: '+254712345678', pin: '4821', device_id: 'android-7f3c2e8a' },
    responses: { 200: TOKENS },
  },
  // A P2P transfer, its receipt, and a dispute.
  transferFunds: {
    request: {
      to_wallet_number: '100000000025',
      amount: 150000,
      currency: 'KES',
      narration: 'Rent share, March',
      pin: '4821',
    },
    responses: { 201: TRANSFER },
  },
  getTransactionReceipt: {
    responses: {
      200: {
        type: 'p2p',
        type_label: 'Transfer',
        status: 'completed',
        occurred_at: AT,
        occurred_at_local: '2026-03-14T12:26:53.000+03:00',
        time_zone: 'Africa/Nairobi',
        from: { wallet_number: '100000000017', name: 'Amina Otieno' },
        to: { wallet_number: '100000000025', name: 'Brian Kamau' },
        biller: null,
        merchant: null,
        amount: 150000,
        currency: 'KES',
        amount_display: 'KES 1,500.00',
        fee: 2500,
        tax: 375,
        total: 152875,
        total_display: 'KES 1,528.75',
        narration: 'Rent share, March',
      },
    },
  },
  openDispute: {
    request: {
      transaction_id: TRANSFER_ID,
      reason: 'wrong_amount',
      description: 'I meant to send KES 150, not KES 1,500',
    },
    responses: {
      201: {
        id: DISPUTE_ID,
        transaction_id: TRANSFER_ID,
        customer_id: CUSTOMER_ID,
        reason: 'wrong_amount',
        description: 'I meant to send KES 150, not KES 1,500',
        status: 'open',
        amount: 150000,
        currency: 'KES',
        amount_display: 'KES 1,500.00',
        held_amount: 150000,
        hold_status: 'held',
        resolution: null,
        resolved_by_id: null,
        refund_transaction_id: null,
        resolved_at: null,
        created_at: AT,
        updated_at: AT,
      },
    },
  },
};
