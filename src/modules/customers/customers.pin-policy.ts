/**
 * Which PINs a customer may choose. A 4–6 digit PIN is protected by the attempt lock, not by its entropy: five
 * guesses of the most common PINs open about one wallet in eight, so the guessable ones are refused when a PIN is
 * set, changed or reset — runs (1234, 9876, 7890), repeats (1111, 1212, 123123), the 100 most common four-digit
 * PINs, and four-digit years people pick (1940–2029).
 */

/**
 * The 100 most frequent four-digit PINs in leaked PIN and password sets, most frequent first (SecLists
 * `four-digit-pin-codes-sorted-by-frequency-withcount.csv`, after DataGenetics' analysis of 3.4 million PINs).
 */
// biome-ignore format: ten a line keeps the ranking readable
export const COMMON_FOUR_DIGIT_PINS: ReadonlySet<string> = new Set([
  '1234', '1111', '0000', '1212', '7777', '1004', '2000', '4444', '2222', '6969',
  '9999', '3333', '5555', '6666', '1122', '1313', '8888', '2001', '4321', '1010',
  '0909', '2580', '0007', '1818', '1230', '1984', '1986', '0070', '1985', '0987',
  '1000', '1231', '1987', '1999', '2468', '2002', '2323', '0123', '1123', '1233',
  '1357', '1221', '1324', '1988', '2112', '2121', '5150', '1024', '1112', '1224',
  '1969', '1225', '1235', '1982', '1983', '1001', '1978', '1979', '7410', '1020',
  '1223', '1974', '1975', '1977', '1980', '1981', '1029', '1121', '1213', '1973',
  '1976', '2020', '2345', '2424', '2525', '1515', '1970', '1972', '1989', '0001',
  '1023', '1414', '9876', '0101', '0907', '1245', '1966', '1967', '1971', '8520',
  '1964', '1968', '4545', '1318', '5678', '1011', '1124', '1211', '1963', '4200',
]);

export const FIRST_YEAR = 1940;
export const LAST_YEAR = 2029;

export type PinWeakness = 'format' | 'sequence' | 'repeat' | 'common' | 'year';

export interface PinVerdict {
  weakness: PinWeakness;
  /** Completes "The PIN …". */
  reason: string;
}

/** Every step between neighbouring digits is +1 (or every one −1), wrapping 9→0: 1234, 7890, 4321, 0987. */
function isSequence(digits: number[]): boolean {
  const steps = digits.slice(1).map((digit, index) => (digit - digits[index]! + 10) % 10);
  return steps.every((step) => step === 1) || steps.every((step) => step === 9);
}

/** The PIN is one block of 1–3 digits said again: 1111, 1212, 121212, 123123. */
function isRepeat(pin: string): boolean {
  for (let size = 1; size <= pin.length / 2; size += 1) {
    if (pin.length % size !== 0) continue;
    if (pin.slice(0, size).repeat(pin.length / size) === pin) return true;
  }
  return false;
}

/** Null when the PIN may be used; otherwise what is wrong with it. */
export function pinVerdict(pin: string): PinVerdict | null {
  if (!/^\d{4,6}$/.test(pin)) return { weakness: 'format', reason: 'must be 4 to 6 digits' };
  if (isRepeat(pin)) return { weakness: 'repeat', reason: 'must not repeat a digit or a group of digits' };
  if (isSequence([...pin].map(Number)))
    return { weakness: 'sequence', reason: 'must not be a run of digits up or down' };
  if (pin.length === 4) {
    if (COMMON_FOUR_DIGIT_PINS.has(pin))
      return { weakness: 'common', reason: 'is one of the most common PINs' };
    const year = Number(pin);
    if (year >= FIRST_YEAR && year <= LAST_YEAR) return { weakness: 'year', reason: 'must not be a year' };
  }
  return null;
}
