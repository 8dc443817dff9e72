/**
 * Every phrase of every journey, in every language, rendered with the longest value each placeholder may take, fits
 * one screen; every placeholder is declared; the languages use the same placeholders. Option lists are paginated by
 * the engine within the same limit (engine.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { JOURNEYS } from './ussd.journeys.ts';
import { LANGUAGES, type Phrase, SCREEN_LIMIT } from './ussd.menu.ts';
import { COMMON_PHRASES, COMMON_VALUES } from './ussd.phrases.ts';
import { fill, OPTION_TEXT_MAX, render, screenLength } from './ussd.render.ts';

const PLACEHOLDER = /\{([a-z_][a-z0-9_]*)\}/g;
const placeholders = (text: string) => [...text.matchAll(PLACEHOLDER)].map((match) => match[1]!).sort();

/** The longest value of each declared placeholder: wide letters, as many as allowed. */
function longest(values: Readonly<Record<string, number>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries({ ...COMMON_VALUES, ...values }).map(([name, max]) => [name, 'W'.repeat(max)]),
  );
}

const ENGINE = { id: 'common', start: '', values: {}, phrases: {}, states: {} };

describe('USSD screens', () => {
  it('has the journeys the main menu leads to', () => {
    const ids = JOURNEYS.map((journey) => journey.id);
    assert.equal(new Set(ids).size, ids.length, 'journey ids are unique');
  });

  for (const journey of [ENGINE, ...JOURNEYS]) {
    const phrases: Readonly<Record<string, Phrase>> = journey === ENGINE ? COMMON_PHRASES : journey.phrases;
    it(`${journey.id}: every phrase fits a screen in every language with the longest values`, () => {
      const values = longest(journey.values);
      for (const [key, phrase] of Object.entries(phrases)) {
        const english = placeholders(phrase.en);
        for (const language of LANGUAGES) {
          const text = phrase[language];
          assert.ok(text && text.trim().length > 0, `${journey.id}.${key} has no ${language} text`);
          assert.deepEqual(
            placeholders(text),
            english,
            `${journey.id}.${key} (${language}) uses other placeholders`,
          );
          for (const name of placeholders(text))
            assert.ok(
              name in values,
              `${journey.id}.${key} uses {${name}}, which the journey does not declare`,
            );
          const phraseKey = journey === ENGINE ? `common.${key}` : key;
          const rendered = fill(journey, phraseKey, language, values);
          assert.ok(
            screenLength(rendered) <= SCREEN_LIMIT,
            `${journey.id}.${key} (${language}) is ${screenLength(rendered)} characters with the longest values:\n${rendered}`,
          );
        }
      }
    });
  }

  it('paginates a list of long option labels so every page fits', () => {
    const journey = { ...ENGINE, phrases: { pick: { en: 'Pick a biller', fr: 'Choisissez', sw: 'Chagua' } } };
    const options = Array.from({ length: 23 }, (_, i) => ({
      label: { text: 'Ü'.repeat(40) + i },
      value: `${i}`,
    }));
    for (const language of LANGUAGES) {
      const first = render(journey, { phrase: 'pick', options }, language);
      assert.ok(first.pages > 1);
      for (let page = 0; page < first.pages; page += 1) {
        const { text } = render(journey, { phrase: 'pick', options }, language, page);
        assert.ok(screenLength(text) <= SCREEN_LIMIT, `page ${page}: ${screenLength(text)}`);
        for (const line of text.split('\n').slice(1))
          assert.ok(screenLength(line) <= OPTION_TEXT_MAX + 4, `option line too long: ${line}`);
      }
    }
  });
});
