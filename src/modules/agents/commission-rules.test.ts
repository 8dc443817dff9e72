/** Commission arithmetic: band selection, the commission of a band, exact splits, and plan band validation. */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { describe, it } from 'node:test';
import { bandErrors, bandFor, commissionOf, splitCommission } from './agents.commission.rules.ts';
import { DEFAULT_KES_RULES } from './agents.commission.seed.ts';
import type { CommissionBand } from './agents.tables.ts';

const band = (from: string, to: string | null, fixed = '0', bps = 0): CommissionBand => ({
  from_minor: from,
  to_minor: to,
  fixed_minor: fixed,
  percent_bps: bps,
});

describe('band selection', () => {
  const bands = [band('100', '1000', '10'), band('1001', '5000', '0', 100), band('5001', null, '200')];

  it('finds the band at both inclusive edges and inside', () => {
    assert.equal(bandFor(bands, 100n), bands[0]);
    assert.equal(bandFor(bands, 1000n), bands[0]);
    assert.equal(bandFor(bands, 1001n), bands[1]);
    assert.equal(bandFor(bands, 3000n), bands[1]);
    assert.equal(bandFor(bands, 5000n), bands[1]);
    assert.equal(bandFor(bands, 5001n), bands[2]);
    assert.equal(bandFor(bands, 10n ** 15n), bands[2]);
  });

  it('pays nothing below the first band or above a closed last band', () => {
    assert.equal(bandFor(bands, 99n), null);
    assert.equal(bandFor([band('1', '10')], 11n), null);
    assert.equal(bandFor([], 500n), null);
  });

  it('computes fixed + amount × bps / 10000, rounded down', () => {
    assert.equal(commissionOf(band('0', null, '10', 0), 12345n), 10n);
    assert.equal(commissionOf(band('0', null, '0', 100), 12345n), 123n); // 123.45 → 123
    assert.equal(commissionOf(band('0', null, '0', 50), 199n), 0n); // 0.995 → 0
    assert.equal(commissionOf(band('0', null, '7', 25), 1_000_000n), 2507n);
    // Exact far beyond 2^53.
    assert.equal(commissionOf(band('0', null, '1', 1), 9_000_000_000_000_000_000n), 900_000_000_000_001n);
  });
});

describe('split between agent and super-agent', () => {
  it('gives the super-agent its share rounded down and the agent the rest', () => {
    assert.deepEqual(splitCommission(1000n, 2000), { agent: 800n, superAgent: 200n });
    assert.deepEqual(splitCommission(999n, 3333), { agent: 667n, superAgent: 332n });
    assert.deepEqual(splitCommission(1n, 9999), { agent: 1n, superAgent: 0n });
    assert.deepEqual(splitCommission(500n, 0), { agent: 500n, superAgent: 0n });
    assert.deepEqual(splitCommission(500n, 10000), { agent: 0n, superAgent: 500n });
  });

  it('parts always sum to the total exactly (random amounts and shares)', () => {
    for (let round = 0; round < 5000; round += 1) {
      const total = BigInt(randomInt(0, 2 ** 47)) * BigInt(randomInt(1, 2 ** 15)) + BigInt(randomInt(0, 100));
      const share = randomInt(0, 10001);
      const { agent, superAgent } = splitCommission(total, share);
      assert.equal(agent + superAgent, total, `total ${total} share ${share}`);
      assert.ok(agent >= 0n && superAgent >= 0n);
      // The super-agent never gets more than its share.
      assert.ok(superAgent * 10000n <= total * BigInt(share));
      assert.ok((superAgent + 1n) * 10000n > total * BigInt(share));
    }
  });
});

describe('plan band validation', () => {
  it('accepts contiguous ascending bands and the seeded default plan', () => {
    assert.deepEqual(bandErrors({ cash_in: [band('1', '100'), band('101', '200'), band('201', null)] }), []);
    assert.deepEqual(bandErrors(DEFAULT_KES_RULES), []);
    assert.deepEqual(bandErrors({ cash_out: [] }), []);
  });

  it('refuses gaps, overlaps, bands out of order and an open band before the last', () => {
    const gap = bandErrors({ cash_in: [band('1', '100'), band('102', null)] });
    assert.deepEqual(
      gap.map((error) => [error.field, error.rule]),
      [['body.rules.cash_in.1.from_minor', 'contiguous']],
    );
    const overlap = bandErrors({ cash_in: [band('1', '100'), band('100', null)] });
    assert.equal(overlap[0]?.rule, 'contiguous');
    const reversed = bandErrors({ cash_out: [band('50', '10')] });
    assert.deepEqual(
      reversed.map((error) => [error.field, error.rule]),
      [['body.rules.cash_out.0.to_minor', 'order']],
    );
    const open = bandErrors({ cash_in: [band('1', null), band('2', null)] });
    assert.deepEqual(
      open.map((error) => [error.field, error.rule]),
      [['body.rules.cash_in.0.to_minor', 'open']],
    );
  });

  it('refuses amounts that are not minor units, percentages out of range and unknown types', () => {
    const errors = bandErrors({
      cash_in: [
        { from_minor: '1.5', to_minor: '-3', fixed_minor: '007', percent_bps: 10001 },
        band('99999999999999999999', null),
      ],
      p2p: [band('1', null)],
    });
    assert.deepEqual(errors.map((error) => error.field).sort(), [
      'body.rules.cash_in.0.fixed_minor',
      'body.rules.cash_in.0.from_minor',
      'body.rules.cash_in.0.percent_bps',
      'body.rules.cash_in.0.to_minor',
      'body.rules.cash_in.1.from_minor',
      'body.rules.p2p',
    ]);
  });
});
