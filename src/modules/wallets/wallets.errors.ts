/** The wallet module's closed set of error codes. */
import { AppError } from '../../platform/errors.ts';

export const walletErrors = {
  notFound: () => new AppError(404, 'NOT_FOUND', 'Wallet not found'),
  noWalletIn: (currency: string) => new AppError(404, 'NOT_FOUND', `You have no ${currency} wallet`),
  recipientNotFound: () =>
    new AppError(404, 'RECIPIENT_NOT_FOUND', 'No wallet in this currency for that wallet number or phone'),
  exists: (walletId: string) =>
    new AppError(409, 'WALLET_EXISTS', 'The customer already has a wallet in this currency', {
      wallet_id: walletId,
    }),
  noProduct: (currency: string) =>
    new AppError(422, 'NO_WALLET_PRODUCT', `No active wallet product for ${currency}`, { currency }),
  productNotFound: () => new AppError(404, 'NOT_FOUND', 'Wallet product not found'),
  productCurrency: () =>
    new AppError(422, 'CURRENCY_MISMATCH', 'The product is for another currency than the wallet'),
  productExists: () => new AppError(409, 'PRODUCT_EXISTS', 'A product with this code exists'),
  customerUnavailable: (status: string) =>
    new AppError(409, 'CUSTOMER_INACTIVE', `The customer is ${status}`, { status }),
  frozen: (status: string) => new AppError(409, 'WALLET_NOT_ACTIVE', `The wallet is ${status}`, { status }),
  recipientUnavailable: () =>
    new AppError(422, 'RECIPIENT_UNAVAILABLE', 'The recipient wallet cannot receive payments now'),
  notEmpty: (balance: bigint) =>
    new AppError(409, 'WALLET_NOT_EMPTY', 'Only a wallet with a zero balance and no holds can be closed', {
      balance,
    }),
  closed: () => new AppError(409, 'WALLET_CLOSED', 'A closed wallet cannot be reopened'),
  staffPayment: () =>
    new AppError(
      403,
      'STAFF_PAYMENT_NOT_ALLOWED',
      "Staff cannot pay from a customer's wallet on a customer payment route (it needs the customer's PIN); use POST /api/v1/wallet/transaction/staff-transfer with a reason",
    ),
};
