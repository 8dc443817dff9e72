/** The customer as the principal of a USSD money action, and the modules' APIs the money port is built on. */
import type { RequestContext } from '../../platform/audit.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import type { Principal } from '../../platform/http.ts';
import type { BillsService } from '../bills/index.ts';
import type { MerchantsService } from '../merchants/index.ts';
import type { SettingsService } from '../settings/index.ts';
import type { TransactionsService } from '../transactions/index.ts';
import type { WalletsService } from '../wallets/index.ts';

export interface MoneyApis {
  deps: Dependencies;
  wallets: WalletsService;
  transactions: TransactionsService;
  bills: BillsService;
  merchants: MerchantsService;
  settings: SettingsService;
}

/** The customer as the principal of a USSD session: the `ussd` channel, whatever any client says. */
export function ussdPrincipal(customerId: string, session = 'ussd'): Principal {
  return {
    type: 'customer',
    id: customerId,
    sessionId: session,
    tokenId: session,
    tokenExpiresAt: 0,
    permissions: new Set(),
    roles: ['customer'],
    passwordChangeRequired: false,
    mfaEnrollmentRequired: false,
    channel: 'ussd',
  };
}

export function ussdContext(customerId: string, gateway: string, sessionId: string): RequestContext {
  return {
    actor: { type: 'customer', id: customerId },
    ip: null,
    userAgent: `ussd/${gateway}`,
    requestId: `ussd:${gateway}:${sessionId}`.slice(0, 128),
  };
}
