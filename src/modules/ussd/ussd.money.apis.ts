/** The modules' APIs the money port is built on (the principal it acts as is in ussd.claims.ts). */
import type { Dependencies } from '../../platform/dependencies.ts';
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
