/**
 * Who may apply for a product: the product's eligibility terms (KYC tier, wallet tenure, active loans) and the
 * customer's standing. Every failed rule is a reason, so the answer names them all at once (LOAN_NOT_ELIGIBLE).
 */
import type { ReasonCode } from './loans.ports.ts';
import type { ProductTerms } from './loans.terms.ts';

const DAY_MS = 86_400_000;

export interface EligibilityFacts {
  customerStatus: 'pending' | 'active' | 'suspended' | 'closed';
  customerTier: string;
  /** The rank of a KYC tier code (kyc module), null for an unknown code. */
  tierRank: (code: string) => Promise<number | null>;
  /** The customer's wallet in the product's currency, if any. */
  wallet: { status: string; createdAt: Date } | undefined;
  /** Approved or active loans the customer holds now. */
  activeLoans: number;
  now: Date;
}

export async function eligibilityReasons(
  terms: ProductTerms,
  currency: string,
  facts: EligibilityFacts,
): Promise<ReasonCode[]> {
  const reasons: ReasonCode[] = [];
  const rules = terms.eligibility;
  if (facts.customerStatus === 'suspended' || facts.customerStatus === 'closed')
    reasons.push({ code: 'CUSTOMER_BLOCKED', message: `The customer is ${facts.customerStatus}` });
  if (rules.min_kyc_tier !== undefined) {
    const required = await facts.tierRank(rules.min_kyc_tier);
    const held = await facts.tierRank(facts.customerTier);
    if (required !== null && (held === null || held < required))
      reasons.push({
        code: 'KYC_TIER_TOO_LOW',
        message: `KYC tier ${rules.min_kyc_tier} or higher is required (the customer is ${facts.customerTier})`,
      });
  }
  const wallet = facts.wallet;
  if (!wallet) reasons.push({ code: 'NO_WALLET', message: `The customer has no ${currency} wallet` });
  else {
    if (wallet.status !== 'active')
      reasons.push({ code: 'WALLET_NOT_ACTIVE', message: `The ${currency} wallet is ${wallet.status}` });
    const days = Math.floor((facts.now.getTime() - wallet.createdAt.getTime()) / DAY_MS);
    const needed = rules.min_wallet_tenure_days ?? 0;
    if (days < needed)
      reasons.push({
        code: 'WALLET_TENURE_TOO_SHORT',
        message: `The ${currency} wallet must be open for ${needed} days (it is ${days} days old)`,
      });
  }
  const maxLoans = rules.max_active_loans;
  if (maxLoans !== undefined && facts.activeLoans >= maxLoans)
    reasons.push({
      code: 'TOO_MANY_ACTIVE_LOANS',
      message: `At most ${maxLoans} active loan${maxLoans === 1 ? '' : 's'} at once (the customer has ${facts.activeLoans})`,
    });
  return reasons;
}
