/**
 * Customers: the profile (creation, reads that mask PII, search, changes, status, phone verification:
 * customers.profile.ts) and the data-protection rights (export of everything held, erasure: customers.rights.ts), over
 * the row reads and views they share (customers.records.ts). CustomersService is the one object the routes call; it
 * hands each use case to its part.
 */
import type { Dependencies } from '../../platform/dependencies.ts';
import { publishPrincipalChange } from '../identity/index.ts';
import { CustomerProfiles } from './customers.profile.ts';
import { CustomerRecords } from './customers.records.ts';
import { CustomerDataRights } from './customers.rights.ts';

export type { CreateCustomer } from './customers.profile.ts';
export { customerErrors, normaliseNationalId, normalisePhone } from './customers.records.ts';

type Profiles = CustomerProfiles;
type Rights = CustomerDataRights;

export class CustomersService {
  readonly profiles: CustomerProfiles;
  readonly rights: CustomerDataRights;
  readonly #deps: Dependencies;

  constructor(deps: Dependencies) {
    this.#deps = deps;
    const records = new CustomerRecords(deps);
    this.profiles = new CustomerProfiles(records);
    this.rights = new CustomerDataRights(records);
  }

  create(...args: Parameters<Profiles['create']>) {
    return this.profiles.create(...args);
  }

  /** Staff see PII in clear only with customer:pii_read and when they ask; reading it is audited. */
  get(...args: Parameters<Profiles['get']>) {
    return this.profiles.get(...args);
  }

  search(...args: Parameters<Profiles['search']>) {
    return this.profiles.search(...args);
  }

  update(...args: Parameters<Profiles['update']>) {
    return this.profiles.update(...args);
  }

  /** After the commit, every node drops its cached access of the customer (a suspension refuses them at once). */
  async changeStatus(...args: Parameters<Profiles['changeStatus']>) {
    const view = await this.profiles.changeStatus(...args);
    await publishPrincipalChange(this.#deps.store, { type: 'customer', id: args[0] });
    return view;
  }

  /** Staff confirm the primary phone (e.g. at a branch). */
  verifyPhone(...args: Parameters<Profiles['verifyPhone']>) {
    return this.profiles.verifyPhone(...args);
  }

  /** Everything held about a customer, PII in clear (the data subject's right of access); audited. */
  export(...args: Parameters<Rights['export']>) {
    return this.rights.export(...args);
  }

  /** What refuses erasure, registered by the modules that hold a customer's money or debts. */
  addErasureCheck(...args: Parameters<Rights['addErasureCheck']>) {
    this.rights.addErasureCheck(...args);
  }

  addErasureStep(...args: Parameters<Rights['addErasureStep']>) {
    this.rights.addErasureStep(...args);
  }

  /** Anonymises the customer and closes them; financial records stay, as the law requires. */
  async erase(...args: Parameters<Rights['erase']>) {
    const view = await this.rights.erase(...args);
    await publishPrincipalChange(this.#deps.store, { type: 'customer', id: args[0] });
    return view;
  }
}
