/**
 * The wallet module's closed set of error codes. CUSTOMER_INACTIVE is the wallets' (an inactive customer cannot
 * hold or use a wallet); the merchants module raises it too, through index.ts.
 */
import {
  defineErrors,
  type ErrorDefinitions,
  platformErrorCatalogue as platform,
} from '../../platform/error-catalogue.ts';
import { commonErrors } from '../../platform/errors.ts';

const definitions = {
  WALLET_EXISTS: {
    status: 409,
    message: 'The customer already has a wallet in this currency',
    description: 'The customer already has a wallet in this currency.',
  },
  WALLET_NOT_ACTIVE: {
    status: 409,
    message: 'The wallet is {status}',
    description: 'The wallet is frozen or closed.',
  },
  WALLET_NOT_EMPTY: {
    status: 409,
    message: 'Only a wallet with a zero balance and no holds can be closed',
    description: 'Only a wallet with a zero balance and no holds can be closed.',
  },
  WALLET_CLOSED: {
    status: 409,
    message: 'A closed wallet cannot be reopened',
    description: 'A closed wallet cannot be reopened.',
  },
  NO_WALLET_PRODUCT: {
    status: 422,
    message: 'No active wallet product for {currency}',
    description: 'No active wallet product for this currency.',
  },
  PRODUCT_EXISTS: {
    status: 409,
    message: 'A product with this code exists',
    description: 'A wallet product with this code exists.',
  },
  EXPORT_TOO_LARGE: {
    status: 422,
    message: 'The period has more than {max_lines} lines; narrow it',
    description: 'The statement period has too many lines; narrow it.',
  },
  RECIPIENT_NOT_FOUND: {
    status: 404,
    message: 'No wallet in this currency for that wallet number or phone',
    description: 'No wallet in this currency for that wallet number or phone.',
  },
  RECIPIENT_UNAVAILABLE: {
    status: 422,
    message: 'The recipient wallet cannot receive payments now',
    description: 'The recipient wallet cannot receive payments now.',
  },
  CUSTOMER_INACTIVE: {
    status: 409,
    message: 'The customer is {status}',
    description: 'The customer is suspended or closed.',
  },
  STAFF_PAYMENT_NOT_ALLOWED: {
    status: 403,
    message:
      "Staff cannot pay from a customer's wallet on a customer payment route (it needs the customer's PIN); use POST /api/v1/wallet/transaction/staff-transfer with a reason",
    description: 'Staff may not move a customer’s money this way without the dedicated permission.',
  },
} as const satisfies ErrorDefinitions;

type WalletErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends WalletErrorCodes {}
}

export const walletErrorCatalogue = defineErrors('wallets', definitions);
const codes = walletErrorCatalogue;

export const walletErrors = {
  notFound: () => commonErrors.notFound('Wallet'),
  noWalletIn: (currency: string) => platform.NOT_FOUND({ message: `You have no ${currency} wallet` }),
  recipientNotFound: () => codes.RECIPIENT_NOT_FOUND(),
  exists: (walletId: string) => codes.WALLET_EXISTS({ details: { wallet_id: walletId } }),
  noProduct: (currency: string) => codes.NO_WALLET_PRODUCT({ params: { currency }, details: { currency } }),
  productNotFound: () => commonErrors.notFound('Wallet product'),
  productCurrency: () =>
    platform.CURRENCY_MISMATCH({ message: 'The product is for another currency than the wallet' }),
  productExists: () => codes.PRODUCT_EXISTS(),
  customerUnavailable: (status: string) =>
    codes.CUSTOMER_INACTIVE({ params: { status }, details: { status } }),
  frozen: (status: string) => codes.WALLET_NOT_ACTIVE({ params: { status }, details: { status } }),
  recipientUnavailable: () => codes.RECIPIENT_UNAVAILABLE(),
  notEmpty: (balance: bigint) => codes.WALLET_NOT_EMPTY({ details: { balance } }),
  closed: () => codes.WALLET_CLOSED(),
  staffPayment: () => codes.STAFF_PAYMENT_NOT_ALLOWED(),
  exportTooLarge: (maxLines: number) =>
    codes.EXPORT_TOO_LARGE({ params: { max_lines: maxLines }, details: { max_lines: maxLines } }),
};
