/** Typed input validation for USSD states: what the customer typed → the value `next` receives, or a refusal. */
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { moneyFromDecimal } from '../../platform/money.ts';
import type { InputSpec } from './ussd.menu.ts';

export type Parsed = { ok: true; value: string } | { ok: false; phrase: string };

const refuse = (type: InputSpec['type']): Parsed => ({ ok: false, phrase: `common.invalid_${type}` });

function validDate(day: number, month: number, year: number): boolean {
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

/**
 * @param currency the session's currency, for amounts (major units typed, minor units returned)
 * @param msisdn the caller's number, whose country a national phone number is read in
 */
export function parseInput(
  spec: InputSpec,
  raw: string,
  context: { choices: Record<string, string> | null; currency: string; msisdn: string },
): Parsed {
  const input = raw.trim();
  switch (spec.type) {
    case 'choice': {
      const value = context.choices?.[input];
      return value === undefined ? refuse('choice') : { ok: true, value };
    }
    case 'number': {
      if (!/^[0-9]+$/.test(input)) return refuse('number');
      if (spec.minDigits !== undefined && input.length < spec.minDigits) return refuse('number');
      if (spec.maxDigits !== undefined && input.length > spec.maxDigits) return refuse('number');
      return { ok: true, value: input };
    }
    case 'amount': {
      if (!/^[0-9]{1,12}(\.[0-9]{1,2})?$/.test(input)) return refuse('amount');
      try {
        const amount = moneyFromDecimal(input.replace(/^0+(?=[0-9])/, ''), context.currency).amount_minor;
        return amount > 0n ? { ok: true, value: amount.toString() } : refuse('amount');
      } catch {
        return refuse('amount');
      }
    }
    case 'phone': {
      const country = parsePhoneNumberFromString(context.msisdn)?.country;
      const phone = parsePhoneNumberFromString(input, country ?? 'KE');
      return phone?.isValid() ? { ok: true, value: phone.number } : refuse('phone');
    }
    case 'pin':
      return /^[0-9]{4,6}$/.test(input) ? { ok: true, value: input } : refuse('pin');
    case 'text': {
      const text = input.replace(/\s+/g, ' ');
      const length = [...text].length;
      if (length < (spec.min ?? 1) || length > spec.max) return refuse('text');
      // Letters of any script, spaces, apostrophes, dots and dashes: a name, not markup.
      if (!/^[\p{L}\p{M}][\p{L}\p{M} .'-]*$/u.test(text)) return refuse('text');
      return { ok: true, value: text };
    }
    case 'date': {
      const match = /^([0-9]{2})([0-9]{2})([0-9]{4})$/.exec(input);
      if (!match) return refuse('date');
      const [, day, month, year] = match;
      if (!validDate(Number(day), Number(month), Number(year))) return refuse('date');
      return { ok: true, value: `${year}-${month}-${day}` };
    }
    case 'code': {
      const code = input.toUpperCase();
      if (!/^[A-Z0-9]+$/.test(code) || code.length < spec.min || code.length > spec.max)
        return refuse('code');
      return { ok: true, value: code };
    }
  }
}
