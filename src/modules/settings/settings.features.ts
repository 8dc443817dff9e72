/**
 * Which route each public feature flag stands for. `/api/v1/app/config` advertises a feature only when its setting is
 * on AND its route is mounted, so a client is never told about a feature the server cannot serve (loans and self
 * registration have settings before their modules exist). A new `features.*` setting does not compile without an
 * entry here.
 */
import type { SettingKey } from './settings.definitions.ts';

export type FeatureName = SettingKey extends `features.${infer Name}` ? Name : never;

export const FEATURE_ROUTES = {
  p2p_transfers: { method: 'POST', url: '/api/v1/wallet/transaction/transfer' },
  qr_payments: { method: 'POST', url: '/api/v1/wallet/transaction/merchant' },
  bill_payments: { method: 'POST', url: '/api/v1/wallet/transaction/bill' },
  // The spec's loan journey starts here (SPEC: "Apply for Loan: POST /api/v1/loan/application/add").
  loans: { method: 'POST', url: '/api/v1/loan/application/add' },
  // The spec's standalone onboarding module ("/api/v1/mobile/register"): a journey starts with the phone check.
  self_registration: { method: 'POST', url: '/api/v1/mobile/register/phone/check' },
} as const satisfies Record<FeatureName, { method: 'GET' | 'POST'; url: string }>;

export function isFeatureName(name: string): name is FeatureName {
  return Object.hasOwn(FEATURE_ROUTES, name);
}

/** Whether the feature's route is mounted; answers false for a name with no known route. */
export function featureMounted(
  hasRoute: (route: { method: 'GET' | 'POST'; url: string }) => boolean,
  name: string,
): boolean {
  return isFeatureName(name) && hasRoute(FEATURE_ROUTES[name]);
}
