/**
 * The goAML report as data, and its XML (UNODC goAML element names and order, as declared in
 * goaml/goAML_report.xsd). Built with xmlbuilder2: text is escaped by the builder, never concatenated.
 */
import { create } from 'xmlbuilder2';

/** P private (home), B business, W work, O postal. */
export type GoamlContactType = 'P' | 'B' | 'W' | 'O';

export interface GoamlPhone {
  contactType: GoamlContactType;
  /** M mobile, L landline. */
  communicationType: 'M' | 'L';
  countryPrefix?: string | null;
  number: string;
}

export interface GoamlAddress {
  type: GoamlContactType;
  address: string;
  town?: string | null;
  city: string;
  zip?: string | null;
  countryCode: string;
  state?: string | null;
}

export interface GoamlIdentification {
  /** N national id, P passport, A alien id, D driving licence, B business registration. */
  type: 'N' | 'P' | 'A' | 'D' | 'B';
  number: string;
  issueCountry: string;
}

export interface GoamlPerson {
  gender?: 'M' | 'F' | 'U' | null;
  firstName: string;
  middleName?: string | null;
  lastName: string;
  /** goAML local date-time (`YYYY-MM-DDTHH:mm:ss`). */
  birthdate?: string | null;
  passportNumber?: string | null;
  /** The national identity number (goAML `id_number`). */
  idNumber?: string | null;
  nationality?: string | null;
  residence?: string | null;
  phones: GoamlPhone[];
  addresses: GoamlAddress[];
  email?: string | null;
  occupation?: string | null;
  identification: GoamlIdentification[];
}

/** A wallet of the bank's. */
export interface GoamlClientAccount {
  institutionName: string;
  institutionCode: string;
  branch?: string | null;
  account: string;
  currency: string;
  accountName?: string | null;
  /** W personal wallet, M merchant wallet. */
  type: 'W' | 'M';
  signatories: GoamlPerson[];
  opened: string;
  /** A active, F frozen, C closed. */
  status: 'A' | 'F' | 'C';
}

/** An account outside the bank's clients (a bank account, a biller, the bank's own house account). */
export interface GoamlOtherAccount {
  institutionName: string;
  account: string;
  currency?: string | null;
  accountName?: string | null;
  comments?: string | null;
}

/** K cash, E e-money, A bank account, O other. */
export type GoamlFunds = 'K' | 'E' | 'A' | 'O';

export interface GoamlForeignCurrency {
  currency: string;
  amount: string;
  rate: string;
}

export type GoamlParty =
  | {
      kind: 'client_person';
      funds: GoamlFunds;
      fundsComment?: string | null;
      foreign?: GoamlForeignCurrency | null;
      person: GoamlPerson;
      country: string;
    }
  | {
      kind: 'client_account';
      funds: GoamlFunds;
      fundsComment?: string | null;
      foreign?: GoamlForeignCurrency | null;
      account: GoamlClientAccount;
      country: string;
    }
  | {
      kind: 'other_account';
      funds: GoamlFunds;
      fundsComment?: string | null;
      foreign?: GoamlForeignCurrency | null;
      account: GoamlOtherAccount;
      country: string;
    };

/** K cash, E e-money transfer, M merchant or bill payment, B bank account, X other. */
export type GoamlTransmode = 'K' | 'E' | 'M' | 'B' | 'X';

export interface GoamlTransaction {
  number: string;
  internalRef?: string | null;
  location?: string | null;
  description?: string | null;
  date: string;
  teller?: string | null;
  authorized?: string | null;
  transmode: GoamlTransmode;
  transmodeComment?: string | null;
  /** Decimal string in the local currency. */
  amountLocal: string;
  from: GoamlParty;
  to: GoamlParty;
  comments?: string | null;
}

export interface GoamlReportingPerson {
  firstName: string;
  lastName: string;
  phones: GoamlPhone[];
  email?: string | null;
  occupation?: string | null;
}

export interface GoamlReport {
  rentityId: number;
  rentityBranch?: string | null;
  code: 'STR' | 'CTR';
  entityReference: string;
  submissionDate: string;
  currencyLocal: string;
  reportingPerson?: GoamlReportingPerson | null;
  location?: GoamlAddress | null;
  reason?: string | null;
  action?: string | null;
  transactions: GoamlTransaction[];
  indicators: string[];
}

/** A date as goAML writes it: the wall-clock time in `timeZone`, no zone suffix. */
export function goamlDate(at: Date, timeZone: string): string {
  // sv-SE formats as `YYYY-MM-DD HH:mm:ss`.
  const text = new Intl.DateTimeFormat('sv-SE', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  }).format(at);
  return text.replace(' ', 'T');
}

type Node = ReturnType<typeof create>;

/** An element with text, left out when the value is absent or empty. */
function leaf(parent: Node, name: string, value: string | number | boolean | null | undefined): void {
  if (value === null || value === undefined || value === '') return;
  parent.ele(name).txt(String(value));
}

function phones(parent: Node, list: GoamlPhone[]): void {
  if (list.length === 0) return;
  const node = parent.ele('phones');
  for (const phone of list) {
    const item = node.ele('phone');
    leaf(item, 'tph_contact_type', phone.contactType);
    leaf(item, 'tph_communication_type', phone.communicationType);
    leaf(item, 'tph_country_prefix', phone.countryPrefix);
    leaf(item, 'tph_number', phone.number);
  }
}

function address(node: Node, value: GoamlAddress): void {
  leaf(node, 'address_type', value.type);
  leaf(node, 'address', value.address);
  leaf(node, 'town', value.town);
  leaf(node, 'city', value.city);
  leaf(node, 'zip', value.zip);
  leaf(node, 'country_code', value.countryCode);
  leaf(node, 'state', value.state);
}

function person(node: Node, value: GoamlPerson): void {
  leaf(node, 'gender', value.gender);
  leaf(node, 'first_name', value.firstName);
  leaf(node, 'middle_name', value.middleName);
  leaf(node, 'last_name', value.lastName);
  leaf(node, 'birthdate', value.birthdate);
  leaf(node, 'passport_number', value.passportNumber);
  leaf(node, 'id_number', value.idNumber);
  leaf(node, 'nationality1', value.nationality);
  leaf(node, 'residence', value.residence);
  phones(node, value.phones);
  if (value.addresses.length > 0) {
    const list = node.ele('addresses');
    for (const item of value.addresses) address(list.ele('address'), item);
  }
  leaf(node, 'email', value.email);
  leaf(node, 'occupation', value.occupation);
  for (const document of value.identification) {
    const id = node.ele('identification');
    leaf(id, 'type', document.type);
    leaf(id, 'number', document.number);
    leaf(id, 'issue_country', document.issueCountry);
  }
}

function clientAccount(node: Node, value: GoamlClientAccount): void {
  leaf(node, 'institution_name', value.institutionName);
  leaf(node, 'institution_code', value.institutionCode);
  leaf(node, 'non_bank_institution', true);
  leaf(node, 'branch', value.branch);
  leaf(node, 'account', value.account);
  leaf(node, 'currency_code', value.currency);
  leaf(node, 'account_name', value.accountName);
  leaf(node, 'personal_account_type', value.type);
  value.signatories.forEach((holder, index) => {
    const signatory = node.ele('signatory');
    leaf(signatory, 'is_primary', index === 0);
    person(signatory.ele('t_person'), holder);
    leaf(signatory, 'role', 'A');
  });
  leaf(node, 'opened', value.opened);
  leaf(node, 'status_code', value.status);
}

function otherAccount(node: Node, value: GoamlOtherAccount): void {
  leaf(node, 'institution_name', value.institutionName);
  leaf(node, 'account', value.account);
  leaf(node, 'currency_code', value.currency);
  leaf(node, 'account_name', value.accountName);
  leaf(node, 'comments', value.comments);
}

function party(transaction: Node, side: 'from' | 'to', value: GoamlParty): void {
  const node = transaction.ele(value.kind === 'other_account' ? `t_${side}` : `t_${side}_my_client`);
  leaf(node, `${side}_funds_code`, value.funds);
  leaf(node, `${side}_funds_comment`, value.fundsComment);
  if (value.foreign) {
    const foreign = node.ele(`${side}_foreign_currency`);
    leaf(foreign, 'foreign_currency_code', value.foreign.currency);
    leaf(foreign, 'foreign_amount', value.foreign.amount);
    leaf(foreign, 'foreign_exchange_rate', value.foreign.rate);
  }
  if (value.kind === 'client_person') person(node.ele(`${side}_person`), value.person);
  else if (value.kind === 'client_account') clientAccount(node.ele(`${side}_account`), value.account);
  else otherAccount(node.ele(`${side}_account`), value.account);
  leaf(node, `${side}_country`, value.country);
}

/** The report's XML document (UTF-8, indented). */
export function goamlXml(report: GoamlReport): string {
  const root = create({ version: '1.0', encoding: 'UTF-8' }).ele('report');
  leaf(root, 'rentity_id', report.rentityId);
  leaf(root, 'rentity_branch', report.rentityBranch);
  leaf(root, 'submission_code', 'E');
  leaf(root, 'report_code', report.code);
  leaf(root, 'entity_reference', report.entityReference);
  leaf(root, 'submission_date', report.submissionDate);
  leaf(root, 'currency_code_local', report.currencyLocal);
  if (report.reportingPerson) {
    const node = root.ele('reporting_person');
    leaf(node, 'first_name', report.reportingPerson.firstName);
    leaf(node, 'last_name', report.reportingPerson.lastName);
    phones(node, report.reportingPerson.phones);
    leaf(node, 'email', report.reportingPerson.email);
    leaf(node, 'occupation', report.reportingPerson.occupation);
  }
  if (report.location) address(root.ele('location'), report.location);
  leaf(root, 'reason', report.reason);
  leaf(root, 'action', report.action);
  for (const transaction of report.transactions) {
    const node = root.ele('transaction');
    leaf(node, 'transactionnumber', transaction.number);
    leaf(node, 'internal_ref_number', transaction.internalRef);
    leaf(node, 'transaction_location', transaction.location);
    leaf(node, 'transaction_description', transaction.description);
    leaf(node, 'date_transaction', transaction.date);
    leaf(node, 'teller', transaction.teller);
    leaf(node, 'authorized', transaction.authorized);
    leaf(node, 'transmode_code', transaction.transmode);
    leaf(node, 'transmode_comment', transaction.transmodeComment);
    leaf(node, 'amount_local', transaction.amountLocal);
    party(node, 'from', transaction.from);
    party(node, 'to', transaction.to);
    leaf(node, 'comments', transaction.comments);
  }
  const indicators = root.ele('report_indicators');
  for (const indicator of report.indicators) leaf(indicators, 'indicator', indicator);
  return root.end({ prettyPrint: true });
}
