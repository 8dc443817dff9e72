/**
 * Exact rates for the schedule: a percent string ("12", "13.75") becomes a fraction of two bigints, and every money
 * amount derived from it is rounded once, half-even, to whole minor units. No float ever touches money.
 */

/** A non-negative fraction num/den with den > 0 (not reduced: bigint keeps it exact whatever its size). */
export interface Ratio {
  readonly num: bigint;
  readonly den: bigint;
}

const PERCENT_TEXT = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?$/;

/** "13.75" (percent) → 1375/10000, the fraction 0.1375. Refuses negative, signed or non-decimal text. */
export function percentToRatio(text: string): Ratio {
  const match = typeof text === 'string' ? PERCENT_TEXT.exec(text) : null;
  if (!match) throw new RangeError(`"${text}" is not a non-negative decimal percent`);
  const [, whole, fraction = ''] = match;
  return { num: BigInt(`${whole}${fraction}`), den: 100n * 10n ** BigInt(fraction.length) };
}

/** num/den rounded to the nearest integer, ties to even (banker's rounding); num >= 0, den > 0. */
export function roundHalfEven(num: bigint, den: bigint): bigint {
  if (den <= 0n) throw new RangeError('denominator must be positive');
  if (num < 0n) return -roundHalfEven(-num, den);
  const quotient = num / den;
  const twiceRemainder = (num % den) * 2n;
  if (twiceRemainder > den) return quotient + 1n;
  if (twiceRemainder < den) return quotient;
  return quotient % 2n === 0n ? quotient : quotient + 1n;
}

/** amount × ratio, rounded half-even to whole minor units. */
export function applyRatio(amount: bigint, ratio: Ratio): bigint {
  return roundHalfEven(amount * ratio.num, ratio.den);
}

/**
 * The level instalment that repays `principal` over `periods` at `rate` per period, rounded half-even:
 * P·r / (1 − (1+r)^−n) = P·a·(b+a)^n / (b·((b+a)^n − b^n)) for r = a/b — exact in bigint, no power series, no
 * floating point; the only rounding is the final one.
 */
export function annuityInstalment(principal: bigint, rate: Ratio, periods: number): bigint {
  if (!Number.isInteger(periods) || periods < 1) throw new RangeError('periods must be a positive integer');
  if (rate.num === 0n) return roundHalfEven(principal, BigInt(periods));
  const n = BigInt(periods);
  const grown = (rate.den + rate.num) ** n;
  const base = rate.den ** n;
  return roundHalfEven(principal * rate.num * grown, rate.den * (grown - base));
}

/** The lesser of two bigints (Math.min refuses bigint). */
export function minBigint(left: bigint, right: bigint): bigint {
  return left < right ? left : right;
}

/** The greater of two bigints. */
export function maxBigint(left: bigint, right: bigint): bigint {
  return left > right ? left : right;
}
