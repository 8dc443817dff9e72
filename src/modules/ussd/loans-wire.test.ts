/**
 * The loans menu through the gateways' wire formats: apply over Africa's Talking (the whole path in `text`), repay
 * and the balance over Hubtel (JSON, latest input only), with a redelivered PIN step having one effect.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { and, count, eq, sql } from 'drizzle-orm';
import { startTestApp, type TestContext } from '../../../test/helpers/app.ts';
import { insertLoanProduct, loanCustomer, type TestProduct } from '../../../test/helpers/loans.ts';
import { activeLoan } from '../../../test/helpers/loans-repayments.ts';
import { balanceOf, TEST_PIN } from '../../../test/helpers/money.ts';
import { type Screen, ussdConfig, ussdDriver } from '../../../test/helpers/ussd.ts';
import { seasonedCustomer } from '../../../test/helpers/ussd-loans.ts';
import { loanApplications, loanTransactions } from '../loans/loans.tables.ts';

/** The key of the option whose line holds `text` ("3. Quick cash up to KES 50,000.00" → "3"). */
function optionFor(screen: Screen, text: string): string {
  const line = screen.message.split('\n').find((candidate) => candidate.includes(text));
  assert.ok(line, `no option with "${text}" in:\n${screen.message}`);
  return line.split('.')[0]!.trim();
}

describe('USSD loans menu through the gateways', () => {
  let t: TestContext;
  let product: TestProduct;

  before(async () => {
    // Arkesel and Nalo send no step number: the same input within the window counts as the gateway's retry. A test
    // types "1" twice faster than any person (Accept after the 1-month term), so the window is closed here.
    t = await startTestApp(ussdConfig({ USSD_DUPLICATE_WINDOW_MS: '0' }));
    product = await insertLoanProduct(
      t,
      { auto_approve_limit_minor: '2000000', max_amount_minor: '5000000', min_term: 1, max_term: 6 },
      { name: 'Quick cash' },
    );
  });
  after(async () => t.close());

  /** Dials, signs in with the PIN and opens the loans menu. */
  async function loansMenu(phone: string, gateway: 'at' | 'hubtel' | 'arkesel' | 'nalo') {
    const driver = ussdDriver(t, { phone, gateway });
    const welcome = await driver.start();
    assert.equal(welcome.continue, true, welcome.message);
    const menu = await driver.send(TEST_PIN);
    assert.equal(menu.continue, true, menu.message);
    const loans = await driver.send(optionFor(menu, 'Loans'));
    assert.match(loans.message, /Check offer/);
    return { driver, loans };
  }

  test("apply over Africa's Talking: product, amount, term, summary, PIN, approved", async () => {
    const customer = await seasonedCustomer(t, 'Wanjiru', '+254755200001');
    const { driver, loans } = await loansMenu(customer.phone, 'at');

    const offers = await driver.send(optionFor(loans, 'Check offer'));
    assert.match(offers.message, /Quick cash up to KES 50,000\.00/);
    const amount = await driver.send(optionFor(offers, 'Quick cash'));
    assert.match(amount.message, /Enter amount from KES 1,000\.00 to KES 50,000\.00/);
    const refused = await driver.send('60000');
    assert.equal(refused.continue, true);
    assert.match(refused.message, /Amount must be from/);
    const terms = await driver.send('15000');
    assert.match(terms.message, /Repay over:/);
    const summary = await driver.send(optionFor(terms, '3 months'));
    assert.match(summary.message, /Loan KES 15,000\.00 x 3 months/);
    assert.match(summary.message, /Instalment KES [0-9,.]+\nTotal KES 15,[0-9,.]+\nFee KES 0\.00/);
    const pin = await driver.send(optionFor(summary, 'Accept'));
    assert.match(pin.message, /Enter PIN to apply for KES 15,000\.00/);
    const decided = await driver.send(TEST_PIN);
    assert.equal(decided.continue, false);
    assert.match(decided.message, /^Approved! Loan LN-?\d+ of KES 15,000\.00\./);
    assert.ok(!decided.message.includes(TEST_PIN));

    // The gateway delivers the PIN step again: the same screen, still one application.
    assert.deepEqual(await driver.repeat(), decided);
    const rows = await t.deps.database.db
      .select()
      .from(loanApplications)
      .where(eq(loanApplications.customerId, customer.id));
    assert.deepEqual(
      rows.map((row) => [row.status, row.channel, row.amountMinor, row.term]),
      [['approved', 'ussd', 1_500_000n, 3]],
    );

    // Approved, not yet paid out: the balance says so.
    const later = await loansMenu(customer.phone, 'at');
    const balance = await later.driver.send(optionFor(later.loans, 'Balance'));
    assert.match(balance.message, /^Loan LN-?\d+ of KES 15,000\.00 is approved and waits to be paid out\.$/);
  });

  test('repay over Hubtel: next due, PIN, paid; the redelivered step has one effect; then the balance', async () => {
    const customer = await loanCustomer(t, 'Kofi', '+254755200002', { tier: 'standard', balance: 1_000_000 });
    const loan = await activeLoan(t, customer, product, [
      { dueIn: 0, principal: 300_000n, interest: 10_000n },
      { dueIn: 30, principal: 300_000n, interest: 7_000n },
    ]);
    const { driver, loans } = await loansMenu(customer.phone, 'hubtel');
    const choices = await driver.send(optionFor(loans, 'Repay'));
    assert.match(choices.message, new RegExp(`Loan ${loan.number}, balance KES`));
    assert.match(choices.message, /Next due KES 3,100\.00/);
    const pin = await driver.send(optionFor(choices, 'Next due'));
    assert.match(pin.message, new RegExp(`Pay KES 3,100\\.00 to loan ${loan.number} from your wallet`));
    const paid = await driver.send(TEST_PIN);
    assert.equal(paid.continue, false);
    assert.match(paid.message, new RegExp(`^Paid KES 3,100\\.00 to loan ${loan.number}\\. Balance KES`));
    assert.deepEqual(await driver.repeat(), paid);
    const [repayments] = await t.deps.database.db
      .select({ n: count() })
      .from(loanTransactions)
      .where(and(eq(loanTransactions.loanId, loan.id), eq(loanTransactions.type, 'repayment')));
    assert.equal(repayments!.n, 1);
    assert.equal((await balanceOf(t, customer.wallet.id)).available, 1_000_000 - 310_000);

    // A new session: the balance screen shows what is left and the next instalment.
    const again = await loansMenu(customer.phone, 'hubtel');
    const balance = await again.driver.send(optionFor(again.loans, 'Balance'));
    assert.equal(balance.continue, false);
    assert.match(
      balance.message,
      new RegExp(
        `^Loan ${loan.number}\\nBalance KES [0-9,.]+\\nNext due KES 3,070\\.00 on \\d\\d/\\d\\d/\\d{4}$`,
      ),
    );
  });

  test('over Arkesel: a wrong PIN at the apply step asks again with the tries left, then the right one applies', async () => {
    const customer = await seasonedCustomer(t, 'Amina', '+254755200003');
    const { driver, loans } = await loansMenu(customer.phone, 'arkesel');
    const products = await driver.send(optionFor(loans, 'Apply'));
    assert.match(products.message, /Choose a loan:/);
    await driver.send(optionFor(products, 'Quick cash'));
    const terms = await driver.send('5000');
    const summary = await driver.send(optionFor(terms, '1 month'));
    assert.match(summary.message, /Loan KES 5,000\.00 x 1 month\n/);
    await driver.send('1');
    const wrong = await driver.send('9999');
    assert.equal(wrong.continue, true);
    assert.match(wrong.message, /^Wrong PIN\. Tries left: 4\.\nEnter PIN to apply for KES 5,000\.00$/);
    const [none] = await t.deps.database.db
      .select({ n: count() })
      .from(loanApplications)
      .where(eq(loanApplications.customerId, customer.id));
    assert.equal(none!.n, 0, 'nothing submitted on a wrong PIN');
    const decided = await driver.send(TEST_PIN);
    assert.match(decided.message, /^Approved! Loan/);
  });

  test('over Nalo: an amount at the one-time-code threshold is sent to the app before any PIN', async () => {
    const customer = await loanCustomer(t, 'Juma', '+254755200004', {
      tier: 'standard',
      balance: 20_000_000,
    });
    await activeLoan(t, customer, product, [{ dueIn: 10, principal: 12_000_000n, interest: 100_000n }]);
    const { driver, loans } = await loansMenu(customer.phone, 'nalo');
    const choices = await driver.send(optionFor(loans, 'Repay'));
    const other = await driver.send(optionFor(choices, 'Other amount'));
    assert.match(other.message, /Enter amount to pay/);
    const refused = await driver.send('100000');
    assert.equal(refused.continue, false);
    assert.equal(refused.message, 'This amount needs a one-time code: please pay it in the app.');
  });

  test('in French: a customer who may not borrow hears why', async () => {
    const customer = await loanCustomer(t, 'Aline', '+254755200005', { tier: 'standard' });
    await t.deps.database.db.execute(
      sql`insert into ussd_profiles (customer_id, language) values (${customer.id}, 'fr')
          on conflict (customer_id) do update set language = 'fr'`,
    );
    // Already holding the most loans the products allow (the seeded salary advance allows one, the test product 3).
    for (const dueIn of [10, 20, 30])
      await activeLoan(t, customer, product, [{ dueIn, principal: 200_000n, interest: 1_000n }]);
    const driver = ussdDriver(t, { phone: customer.phone, gateway: 'at' });
    await driver.start();
    const menu = await driver.send(TEST_PIN);
    const loans = await driver.send(optionFor(menu, 'Credits'));
    assert.match(loans.message, /Voir mon offre/);
    const offer = await driver.send(optionFor(loans, 'Voir mon offre'));
    assert.equal(offer.continue, false);
    assert.equal(offer.message, 'Vous avez deja le maximum de credits. Remboursez-en un pour emprunter.');
  });
});
