/**
 * Merchants: registration under maker-checker and the merchant's status (merchants.registration.ts), EMVCo
 * merchant-presented QR codes (merchants.qr.ts), and payment by merchant id or scanned QR through the payment engine
 * with the merchant discount rate (merchants.payments.ts). MerchantsService is the one object the routes and the
 * module's contributions call; it hands each use case to its part.
 */
import type { PaymentModuleOptions } from '../transactions/index.ts';
import { MerchantPayments } from './merchants.payments.ts';
import { MerchantQrCodes } from './merchants.qr.ts';
import { MerchantRegistration } from './merchants.registration.ts';

export type { MerchantPaymentInput } from './merchants.payments.ts';
export { MERCHANT_QR_GUID } from './merchants.qr.ts';
export type { RegistrationInput, RegistrationPayload } from './merchants.registration.ts';
export { type MerchantView, merchantView, qrView } from './merchants.rows.ts';

type Registration = MerchantRegistration;
type QrCodes = MerchantQrCodes;

export class MerchantsService {
  readonly registration: MerchantRegistration;
  readonly qrCodes: MerchantQrCodes;
  readonly payments: MerchantPayments;

  constructor(options: PaymentModuleOptions) {
    this.registration = new MerchantRegistration(options);
    this.qrCodes = new MerchantQrCodes(options);
    this.payments = new MerchantPayments(options);
  }

  /** Files the registration for a second staff member; nothing exists until it is approved. */
  requestRegistration(...args: Parameters<Registration['requestRegistration']>) {
    return this.registration.requestRegistration(...args);
  }

  /** The approved registration: the merchant and its wallet in one transaction, audited, with an event. */
  executeRegistration(...args: Parameters<Registration['executeRegistration']>) {
    return this.registration.executeRegistration(...args);
  }

  list(...args: Parameters<Registration['list']>) {
    return this.registration.list(...args);
  }

  /** One merchant with its wallet and balance. */
  get(...args: Parameters<Registration['get']>) {
    return this.registration.get(...args);
  }

  /** Suspend or reactivate; a suspended merchant cannot be paid. */
  setStatus(...args: Parameters<Registration['setStatus']>) {
    return this.registration.setStatus(...args);
  }

  /** A reusable code without an amount. */
  createStaticQr(...args: Parameters<QrCodes['createStaticQr']>) {
    return this.qrCodes.createStaticQr(...args);
  }

  /** A single-use code carrying the amount and the merchant's reference. */
  createDynamicQr(...args: Parameters<QrCodes['createDynamicQr']>) {
    return this.qrCodes.createDynamicQr(...args);
  }

  getQr(...args: Parameters<QrCodes['getQr']>) {
    return this.qrCodes.getQr(...args);
  }

  qrPng(...args: Parameters<QrCodes['qrPng']>) {
    return this.qrCodes.qrPng(...args);
  }

  /** Pay a merchant by id or scanned QR. */
  pay(...args: Parameters<MerchantPayments['pay']>) {
    return this.payments.pay(...args);
  }
}
