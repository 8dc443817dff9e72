/**
 * Turns a state's screen into the text a phone shows: the phrase in the session's language with its placeholder
 * values cut to their declared length, then the options, numbered and paginated so that every page stays within
 * SCREEN_LIMIT ("98 More" forward, "0 Back" to the previous page).
 */
import type { Journey, Language, Option, Screen } from './ussd.menu.ts';
import { SCREEN_LIMIT } from './ussd.menu.ts';
import { COMMON_PHRASES, COMMON_VALUES } from './ussd.phrases.ts';

/** Longest option label taken from data (a biller's name) before it is cut. */
export const OPTION_TEXT_MAX = 24;
/** Longest value of a placeholder no journey declared (the screens test fails on one). */
const UNDECLARED_MAX = 20;
export const MORE_KEY = '98';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Screen length as gateways count it: UTF-16 code units (a character outside the BMP takes two). */
export function screenLength(text: string): number {
  return text.length;
}

/** Cuts `value` to at most `max` screen characters without splitting a grapheme (an accent, a flag). */
export function cut(value: string, max: number): string {
  if (screenLength(value) <= max) return value;
  let out = '';
  for (const { segment } of segmenter.segment(value)) {
    if (screenLength(out) + screenLength(segment) > max) break;
    out += segment;
  }
  return out;
}

export function phraseOf(journey: Pick<Journey, 'id' | 'phrases'>, key: string, language: Language): string {
  const phrase = key.startsWith('common.') ? COMMON_PHRASES[key.slice(7)] : journey.phrases[key];
  if (!phrase) throw new Error(`USSD journey ${journey.id} has no phrase ${key}`);
  return phrase[language];
}

/** The longest value placeholder `name` may show in this journey. */
export function valueLimit(journey: Pick<Journey, 'values'>, name: string): number {
  return journey.values[name] ?? COMMON_VALUES[name] ?? UNDECLARED_MAX;
}

export function fill(
  journey: Pick<Journey, 'id' | 'phrases' | 'values'>,
  key: string,
  language: Language,
  values: Readonly<Record<string, string | number>> = {},
): string {
  return phraseOf(journey, key, language).replace(/\{([a-z_][a-z0-9_]*)\}/g, (whole, name: string) => {
    const value = values[name];
    if (value === undefined) return whole;
    return cut(String(value), valueLimit(journey, name));
  });
}

function label(journey: Journey, option: Option, language: Language): string {
  if ('text' in option.label) return cut(option.label.text, OPTION_TEXT_MAX);
  return fill(journey, option.label.phrase, language, option.label.values);
}

export interface Rendered {
  text: string;
  /** The option keys of the whole list → the values `next` receives (kept in the session for the next input). */
  choices: Record<string, string> | null;
  /** Pages the options took (1 without options). */
  pages: number;
}

/** Lines of each page: as many options as fit under the header with the page's footer. */
function paginate(header: string, lines: string[], more: string, back: string): string[][] {
  const pages: string[][] = [];
  let index = 0;
  while (index < lines.length) {
    const footer = pages.length > 0 ? [back] : [];
    const page: string[] = [];
    while (index < lines.length) {
      const last = index === lines.length - 1;
      const candidate = [header, ...page, lines[index]!, ...(last ? [] : [more]), ...footer];
      // A page always takes one option, even one that does not fit (the screen is then cut).
      if (page.length > 0 && screenLength(candidate.join('\n')) > SCREEN_LIMIT) break;
      page.push(lines[index]!);
      index += 1;
    }
    pages.push(page);
  }
  return pages.length > 0 ? pages : [[]];
}

export function render(
  journey: Journey,
  screen: Screen,
  language: Language,
  page = 0,
  notice?: string,
): Rendered {
  let header = fill(journey, screen.phrase, language, screen.values);
  if (notice) header = `${notice}\n${header}`;
  if (!screen.options || screen.options.length === 0)
    return { text: cut(header, SCREEN_LIMIT), choices: null, pages: 1 };
  const choices: Record<string, string> = {};
  const lines: string[] = [];
  screen.options.forEach((option, position) => {
    const key = option.key ?? String(position + 1);
    choices[key] = option.value;
    lines.push(`${key}. ${label(journey, option, language)}`);
  });
  const more = `${MORE_KEY}. ${phraseOf(journey, 'common.more', language)}`;
  const back = `0. ${phraseOf(journey, 'common.back', language)}`;
  const pages = paginate(header, lines, more, back);
  const shown = Math.min(Math.max(page, 0), pages.length - 1);
  const body = [header, ...pages[shown]!];
  if (shown < pages.length - 1) body.push(more);
  if (shown > 0) body.push(back);
  return { text: cut(body.join('\n'), SCREEN_LIMIT), choices, pages: pages.length };
}
