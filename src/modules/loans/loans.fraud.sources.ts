/**
 * What the fraud rules read from other modules, only through their index.ts: the customer's identifiers, names and
 * phone verification (customers), registered devices (identity), KYC decisions (kyc), the wallet (wallets) and its
 * journal lines (ledger), and the phone-ownership provider when one is configured.
 */
import {
  type PhoneOwnership,
  PhoneOwnershipError,
} from '../../integrations/phone-ownership/phone-ownership.client.ts';
import type { Executor } from '../../platform/db.ts';
import {
  customerNames,
  customerNationalIdIndex,
  primaryContact,
  verifiedContacts,
} from '../customers/index.ts';
import type { IdentityService } from '../identity/index.ts';
import type { KycService } from '../kyc/index.ts';
import { journalLines } from '../ledger/index.ts';
import type { WalletsService } from '../wallets/index.ts';
import type { OwnershipResult } from './loans.ports.ts';

/**
 * The functions taking an executor run inside the check's transaction with its `tx`; the others (services on their own
 * connections, the provider over HTTP) only before it, in `FraudService.prepare`.
 */
export interface FraudSources {
  nationalIdIndex(tx: Executor, customerId: string): Promise<string | null>;
  primaryPhone(tx: Executor, customerId: string): Promise<string | null>;
  names(tx: Executor, customerId: string): Promise<{ firstName: string; lastName: string }>;
  phoneVerified(tx: Executor, customerId: string): Promise<boolean>;
  /** Null when no provider is configured: the rule uses our own data. */
  phoneOwnership:
    | ((msisdn: string, names: { firstName: string; lastName: string }) => Promise<OwnershipResult>)
    | null;
  devices(customerId: string): Promise<{ deviceId: string; createdAt: Date }[]>;
  walletId(customerId: string, currency: string): Promise<string | null>;
  /** When the customer's approved KYC upgrades were decided. */
  kycApprovals(customerId: string): Promise<Date[]>;
}

export function fraudSources(apis: {
  identity: IdentityService;
  kyc: KycService;
  wallets: WalletsService;
  phoneOwnership: PhoneOwnership | null;
}): FraudSources {
  const provider = apis.phoneOwnership;
  return {
    nationalIdIndex: (tx, customerId) => customerNationalIdIndex(tx, customerId),
    primaryPhone: (tx, customerId) => primaryContact(tx, customerId, 'phone'),
    async names(tx, customerId) {
      const names = (await customerNames(tx, [customerId])).get(customerId);
      return { firstName: names?.firstName ?? '', lastName: names?.lastName ?? '' };
    },
    phoneVerified: async (tx, customerId) => (await verifiedContacts(tx, customerId)).phone,
    phoneOwnership: provider
      ? async (msisdn, names) => {
          try {
            return { kind: 'answer', ...(await provider.check({ msisdn, ...names })) };
          } catch (error) {
            if (!(error instanceof PhoneOwnershipError)) throw error;
            if (error.kind === 'unknown_number') return { kind: 'unknown_number' };
            return { kind: 'error', error: `${error.code}: ${error.message}` };
          }
        }
      : null,
    async devices(customerId) {
      const devices = await apis.identity.push.listDevices({ type: 'customer', id: customerId });
      return devices.map((device) => ({
        deviceId: device.device_id,
        createdAt: new Date(device.created_at),
      }));
    },
    walletId: async (customerId, currency) =>
      (await apis.wallets.findCustomerWallet(customerId, currency))?.id ?? null,
    async kycApprovals(customerId) {
      const { items } = await apis.kyc.applications(customerId);
      return items
        .filter((item) => item.status === 'approved' && item.decided_at !== null)
        .map((item) => new Date(item.decided_at!));
    },
  };
}

const PAGE = 500;

/**
 * Money that came into the wallet between two instants: the credit lines of its ledger account, less loan
 * disbursements (a loan is not income). A wallet's id is its ledger account's.
 */
export async function walletCredits(
  tx: Executor,
  walletId: string,
  from: Date,
  to: Date,
): Promise<{ amount: bigint; at: Date }[]> {
  const credits: { amount: bigint; at: Date }[] = [];
  let afterEntry: bigint | undefined;
  for (;;) {
    const lines = await journalLines(tx, walletId, { from, to, afterEntry }, PAGE);
    for (const line of lines) {
      if (line.entry.direction !== 'credit') continue;
      if (line.metadata && 'loan_id' in line.metadata) continue;
      credits.push({ amount: line.entry.amount, at: line.entry.createdAt });
    }
    if (lines.length < PAGE) return credits;
    afterEntry = lines[lines.length - 1]!.entry.id;
  }
}
