/**
 * The policy module's service: access policies (`policy.access.ts`, enforced on every staff request) and
 * transaction-control limits (`policy.limits.ts`, asked by payments before posting). Callers hold this one object;
 * each part keeps its own cache.
 */
import type { Executor } from '../../platform/db.ts';
import { AccessPolicies } from './policy.access.ts';
import { TransactionLimits } from './policy.limits.ts';

export { policyErrors } from './policy.access.ts';
export type { TransactionQuestion } from './policy.limits.ts';

export class PolicyService {
  readonly access: AccessPolicies;
  readonly limits: TransactionLimits;

  constructor(db: Executor) {
    this.access = new AccessPolicies(db);
    this.limits = new TransactionLimits(db);
  }

  evaluateAccess(...args: Parameters<AccessPolicies['evaluateAccess']>) {
    return this.access.evaluateAccess(...args);
  }

  listAccess() {
    return this.access.listAccess();
  }

  getAccess(...args: Parameters<AccessPolicies['getAccess']>) {
    return this.access.getAccess(...args);
  }

  createAccess(...args: Parameters<AccessPolicies['createAccess']>) {
    return this.access.createAccess(...args);
  }

  updateAccess(...args: Parameters<AccessPolicies['updateAccess']>) {
    return this.access.updateAccess(...args);
  }

  deleteAccess(...args: Parameters<AccessPolicies['deleteAccess']>) {
    return this.access.deleteAccess(...args);
  }

  evaluateTransaction(...args: Parameters<TransactionLimits['evaluateTransaction']>) {
    return this.limits.evaluateTransaction(...args);
  }

  listLimits(...args: Parameters<TransactionLimits['listLimits']>) {
    return this.limits.listLimits(...args);
  }

  getLimit(...args: Parameters<TransactionLimits['getLimit']>) {
    return this.limits.getLimit(...args);
  }

  createLimit(...args: Parameters<TransactionLimits['createLimit']>) {
    return this.limits.createLimit(...args);
  }

  updateLimit(...args: Parameters<TransactionLimits['updateLimit']>) {
    return this.limits.updateLimit(...args);
  }

  deleteLimit(...args: Parameters<TransactionLimits['deleteLimit']>) {
    return this.limits.deleteLimit(...args);
  }
}
