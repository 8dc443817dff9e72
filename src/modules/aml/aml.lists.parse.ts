/**
 * Parsers for the published sanctions and PEP lists, each yielding the same `ParsedEntry`:
 * - the UN Security Council consolidated list (XML, `fast-xml-parser`; the list is a few thousand entries, parsed
 *   whole);
 * - OFAC's SDN list (`sdn.csv`, no header row, `-0-` for empty, with its optional `alt.csv` of aliases; `csv-parse`
 *   streaming), DOB and nationality read from the Remarks column;
 * - OpenSanctions FollowTheMoney JSON lines (millions of lines: read line by line from a stream).
 * Country names become ISO 3166 alpha-2 codes through `i18n-iso-countries`; a name it does not know is dropped.
 */
import { createHash } from 'node:crypto';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import { XMLParser } from 'fast-xml-parser';
import countries from 'i18n-iso-countries';
import { canonicalJson } from '../../platform/json.ts';
import type { EntryKind, ListSource } from './aml.tables.ts';

export interface ParsedEntry {
  externalId: string;
  kind: EntryKind;
  name: string;
  aliases: string[];
  birthDates: string[];
  nationalities: string[];
  programs: string[];
  pep: boolean;
}

/** A file that can be read more than once (hashed, then parsed). */
export interface ListFile {
  /** Where it came from (a path, an URL, `upload`): recorded with the version. */
  origin: string;
  open(): Readable;
}

/** A malformed file: the loader turns it into a 422 (or the CLI's exit 1), naming what was wrong. */
export class ListFormatError extends Error {}

const clean = (value: unknown): string => {
  if (value === undefined || value === null) return '';
  const text = String(value).replace(/\s+/g, ' ').trim();
  return text === '-0-' ? '' : text;
};

const unique = (values: readonly string[]): string[] => [...new Set(values.filter((value) => value !== ''))];

/** Spellings of the UN and OFAC lists that the country-name library does not know. */
const LIST_SPELLINGS: Record<string, string> = {
  "democratic people's republic of korea": 'KP',
  'viet nam': 'VN',
  syria: 'SY',
  burma: 'MM',
  'state of palestine': 'PS',
  'ivory coast': 'CI',
  kosovo: 'XK',
};

/** An ISO alpha-2 code (upper case) for a country name, alpha-2 or alpha-3 code; null when unknown. */
export function countryCode(value: string): string | null {
  const text = clean(value);
  if (!text) return null;
  if (/^[A-Za-z]{2}$/.test(text)) return countries.isValid(text.toUpperCase()) ? text.toUpperCase() : null;
  if (/^[A-Za-z]{3}$/.test(text)) return countries.alpha3ToAlpha2(text.toUpperCase()) ?? null;
  const plain = text.replace(/\s*\(.*\)\s*$/, '').replace(/^the\s+/i, '');
  // `Korea, North`, `Congo, The Democratic Republic of the`: the list's inverted order, put back.
  const comma = plain.indexOf(', ');
  const inverted =
    comma > 0 ? `${plain.slice(comma + 2)} ${plain.slice(0, comma)}`.replace(/^the\s+/i, '') : null;
  for (const name of [text, plain, inverted]) {
    if (!name) continue;
    const code = LIST_SPELLINGS[name.toLowerCase()] ?? countries.getAlpha2Code(name, 'en');
    if (code) return code;
  }
  return null;
}

const countryCodes = (values: readonly string[]): string[] =>
  unique(values.map((value) => countryCode(value) ?? ''));

/** The hash the diff between versions compares (every field but the external id). */
export function fingerprint(entry: ParsedEntry): string {
  return createHash('sha256')
    .update(
      canonicalJson({
        kind: entry.kind,
        name: entry.name,
        aliases: [...entry.aliases].sort(),
        birthDates: [...entry.birthDates].sort(),
        nationalities: [...entry.nationalities].sort(),
        programs: [...entry.programs].sort(),
        pep: entry.pep,
      }),
    )
    .digest('hex');
}

async function readAll(file: ListFile): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of file.open()) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

// ---------------------------------------------------------------------------------------------------------------
// UN Security Council consolidated list (XML)
// ---------------------------------------------------------------------------------------------------------------

const UN_ARRAYS = new Set([
  'INDIVIDUAL',
  'ENTITY',
  'INDIVIDUAL_ALIAS',
  'ENTITY_ALIAS',
  'INDIVIDUAL_DATE_OF_BIRTH',
  'VALUE',
]);

type XmlNode = Record<string, unknown>;
const nodes = (value: unknown): XmlNode[] =>
  Array.isArray(value) ? (value as XmlNode[]) : value && typeof value === 'object' ? [value as XmlNode] : [];
const values = (value: unknown): string[] =>
  nodes(value).flatMap((node) => (Array.isArray(node.VALUE) ? node.VALUE.map(clean) : []));

export async function* parseUnXml(file: ListFile): AsyncGenerator<ParsedEntry> {
  const parser = new XMLParser({
    parseTagValue: false,
    ignoreAttributes: true,
    trimValues: true,
    isArray: (name) => UN_ARRAYS.has(name),
  });
  let document: XmlNode;
  try {
    document = parser.parse(await readAll(file), true) as XmlNode;
  } catch (error) {
    throw new ListFormatError(`not a well-formed XML file: ${(error as Error).message}`);
  }
  const root = document.CONSOLIDATED_LIST as XmlNode | undefined;
  if (!root || typeof root !== 'object') throw new ListFormatError('no CONSOLIDATED_LIST element');
  for (const [container, item, kind] of [
    ['INDIVIDUALS', 'INDIVIDUAL', 'person'],
    ['ENTITIES', 'ENTITY', 'organization'],
  ] as const) {
    const group = root[container] as XmlNode | undefined;
    for (const node of nodes(group?.[item])) {
      const externalId = clean(node.REFERENCE_NUMBER) || clean(node.DATAID);
      const name = ['FIRST_NAME', 'SECOND_NAME', 'THIRD_NAME', 'FOURTH_NAME']
        .map((field) => clean(node[field]))
        .filter(Boolean)
        .join(' ');
      if (!externalId || !name) throw new ListFormatError(`${item} without a reference number or a name`);
      const aliases = nodes(node[`${item}_ALIAS`]).map((alias) => clean(alias.ALIAS_NAME));
      const birthDates = nodes(node.INDIVIDUAL_DATE_OF_BIRTH).map(
        (dob) => clean(dob.DATE) || clean(dob.YEAR),
      );
      yield {
        externalId,
        kind,
        name,
        aliases: unique(aliases).filter((alias) => alias !== name),
        birthDates: unique(birthDates.map((date) => date.slice(0, 10))),
        nationalities: countryCodes(values(node.NATIONALITY)),
        programs: unique([clean(node.UN_LIST_TYPE)]),
        pep: false,
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// OFAC SDN (CSV)
// ---------------------------------------------------------------------------------------------------------------

const MONTHS: Record<string, string> = {
  jan: '01',
  feb: '02',
  mar: '03',
  apr: '04',
  may: '05',
  jun: '06',
  jul: '07',
  aug: '08',
  sep: '09',
  oct: '10',
  nov: '11',
  dec: '12',
};

/** `12 Jan 1960` → 1960-01-12, `Jan 1960` → 1960-01, `1960` / `circa 1960` → 1960; null otherwise. */
export function ofacDate(text: string): string | null {
  const value = text.replace(/^(circa|approximately)\s+/i, '').trim();
  let match = /^(\d{1,2}) ([A-Za-z]{3})[a-z]* (\d{4})$/.exec(value);
  if (match && MONTHS[match[2]!.toLowerCase()])
    return `${match[3]}-${MONTHS[match[2]!.toLowerCase()]}-${match[1]!.padStart(2, '0')}`;
  match = /^([A-Za-z]{3})[a-z]* (\d{4})$/.exec(value);
  if (match && MONTHS[match[1]!.toLowerCase()]) return `${match[2]}-${MONTHS[match[1]!.toLowerCase()]}`;
  match = /^(\d{4})(?:\s+to\s+\d{4})?$/.exec(value);
  return match ? match[1]! : null;
}

/** DOBs and nationalities (`nationality X`, `citizen X`) from an SDN Remarks column. */
export function ofacRemarks(remarks: string): { birthDates: string[]; nationalities: string[] } {
  const birthDates: string[] = [];
  const nationalities: string[] = [];
  for (const part of remarks.split(';')) {
    const item = part.trim().replace(/\.$/, '');
    const dob = /^(?:alt\.\s+)?DOB\s+(.+)$/i.exec(item);
    if (dob) {
      const date = ofacDate(dob[1]!);
      if (date) birthDates.push(date);
      continue;
    }
    const country = /^(?:alt\.\s+)?(?:nationality|citizen)\s+(.+)$/i.exec(item);
    if (country) {
      const code = countryCode(country[1]!);
      if (code) nationalities.push(code);
    }
  }
  return { birthDates: unique(birthDates), nationalities: unique(nationalities) };
}

/** `LASTNAME, First Middle` → `First Middle LASTNAME` (individuals); other names as they are. */
export function ofacPersonName(name: string): string {
  const comma = name.indexOf(',');
  if (comma < 0) return name;
  const last = name.slice(0, comma).trim();
  const first = name.slice(comma + 1).trim();
  return first ? `${first} ${last}` : last;
}

function csvRows(file: ListFile): AsyncIterable<string[]> {
  const parser = parseCsv({
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    trim: true,
  });
  const input = file.open();
  input.on('error', (error) => parser.destroy(error));
  return input.pipe(parser);
}

async function ofacAliases(alt: ListFile | undefined): Promise<Map<string, string[]>> {
  const aliases = new Map<string, string[]>();
  if (!alt) return aliases;
  for await (const row of csvRows(alt)) {
    const [entNum, , , altName] = row.map(clean);
    if (!entNum || !/^\d+$/.test(entNum)) throw new ListFormatError('alt.csv: a row without an ent_num');
    if (!altName) continue;
    aliases.set(entNum, [...(aliases.get(entNum) ?? []), altName]);
  }
  return aliases;
}

const OFAC_KINDS: Record<string, EntryKind> = {
  individual: 'person',
  '': 'organization',
  vessel: 'vessel',
  aircraft: 'other',
};

export async function* parseOfacCsv(file: ListFile, alt?: ListFile): AsyncGenerator<ParsedEntry> {
  const aliases = await ofacAliases(alt);
  try {
    for await (const row of csvRows(file)) {
      const [entNum, sdnName, sdnType, program] = row.map(clean);
      if (!entNum || !/^\d+$/.test(entNum) || !sdnName)
        throw new ListFormatError(
          'sdn.csv: a row without an ent_num or an SDN_Name (is it an SDN CSV file?)',
        );
      const kind = OFAC_KINDS[(sdnType ?? '').toLowerCase()] ?? 'other';
      const person = kind === 'person';
      const name = person ? ofacPersonName(sdnName) : sdnName;
      const remarks = ofacRemarks(clean(row[11]));
      yield {
        externalId: entNum,
        kind,
        name,
        aliases: unique((aliases.get(entNum) ?? []).map((alias) => (person ? ofacPersonName(alias) : alias))),
        birthDates: remarks.birthDates,
        nationalities: remarks.nationalities,
        programs: unique((program ?? '').split(/[[\]\s]+/)),
        pep: false,
      };
    }
  } catch (error) {
    if (error instanceof ListFormatError) throw error;
    throw new ListFormatError(`sdn.csv: ${(error as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// OpenSanctions FollowTheMoney (JSON lines)
// ---------------------------------------------------------------------------------------------------------------

const FTM_KINDS: Record<string, EntryKind> = {
  Person: 'person',
  Organization: 'organization',
  Company: 'organization',
  LegalEntity: 'organization',
  PublicBody: 'organization',
  Vessel: 'vessel',
  Airplane: 'other',
};

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string').map(clean) : [];

export async function* parseOpenSanctions(file: ListFile): AsyncGenerator<ParsedEntry> {
  const lines = createInterface({ input: file.open(), crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  for await (const line of lines) {
    number += 1;
    if (line.trim() === '') continue;
    let entity: { id?: unknown; schema?: unknown; caption?: unknown; properties?: Record<string, unknown> };
    try {
      entity = JSON.parse(line);
    } catch {
      throw new ListFormatError(`line ${number} is not JSON`);
    }
    // A line of JSON that is not an object (`null`, a number, an array) is no entity either.
    if (
      entity === null ||
      typeof entity !== 'object' ||
      Array.isArray(entity) ||
      typeof entity.id !== 'string' ||
      typeof entity.schema !== 'string' ||
      !entity.properties ||
      typeof entity.properties !== 'object'
    )
      throw new ListFormatError(`line ${number} is not a FollowTheMoney entity (id, schema, properties)`);
    const kind = FTM_KINDS[entity.schema];
    // Addresses, sanctions, identifications … are not screened subjects.
    if (!kind) continue;
    const properties = entity.properties;
    const names = unique(strings(properties.name));
    const name = names[0] ?? (typeof entity.caption === 'string' ? clean(entity.caption) : '');
    if (!name) continue;
    const topics = strings(properties.topics);
    yield {
      externalId: entity.id,
      kind,
      name,
      aliases: unique([...names.slice(1), ...strings(properties.alias)]).filter((alias) => alias !== name),
      birthDates: unique(strings(properties.birthDate).map((date) => date.slice(0, 10))),
      nationalities: countryCodes([...strings(properties.nationality), ...strings(properties.citizenship)]),
      programs: unique([
        ...strings(properties.program),
        ...topics.filter((topic) => topic.startsWith('sanction')),
      ]),
      pep: topics.includes('role.pep'),
    };
  }
}

/** The parser of a source (OFAC takes the optional alias file). */
export function parseList(source: ListSource, file: ListFile, alt?: ListFile): AsyncGenerator<ParsedEntry> {
  if (source === 'un') return parseUnXml(file);
  if (source === 'ofac') return parseOfacCsv(file, alt);
  return parseOpenSanctions(file);
}
