/**
 * Whether a short run of digits (a PIN, a one-time code) stands alone in text that also holds ids, hashes, epoch times
 * and decimals, where the same digits turn up by chance: a UUID's group (`6e88bf59-5827-4fc4-…`, between dashes) is set
 * aside first, and a match must not touch a letter or a digit, nor be part of a decimal. A PIN logged or stored as such (`"pin":"4826"`,
 * `1*4826`, `PIN 4826`) is found.
 */
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

export function digitsStandAlone(text: string, digits: string): { found: boolean; context: string } {
  const cleaned = text.replace(UUID, '<uuid>');
  // Not touching a letter or a digit, nor a decimal point with digits on its other side (12.4739, 4739.5).
  const match = new RegExp(`(?<![0-9A-Za-z])(?<![0-9]\\.)${digits}(?![0-9A-Za-z])(?!\\.[0-9])`).exec(cleaned);
  if (!match) return { found: false, context: '' };
  return { found: true, context: cleaned.slice(Math.max(0, match.index - 120), match.index + 120) };
}
