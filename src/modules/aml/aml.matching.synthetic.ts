/**
 * Deterministic synthetic list entries for the screening bench and the index tests: real-world-like given names from
 * several regions, family names from a real-world pool and from syllables (so large lists have the long tail of
 * family names real lists have), aliases, dates of birth and nationalities. Same seed, same list.
 */
import type { IndexEntry } from './aml.matching.index.ts';

const GIVEN = [
  'Mohammed',
  'Ahmed',
  'Ali',
  'Omar',
  'Hassan',
  'Ibrahim',
  'Yusuf',
  'Abdullah',
  'Khalid',
  'Mustafa',
  'Fatima',
  'Aisha',
  'Maryam',
  'Amina',
  'Ivan',
  'Sergey',
  'Dmitri',
  'Vladimir',
  'Aleksandr',
  'Nikolai',
  'Olga',
  'Tatiana',
  'Elena',
  'Yuri',
  'John',
  'James',
  'Robert',
  'Michael',
  'William',
  'David',
  'Mary',
  'Patricia',
  'Jennifer',
  'Linda',
  'Peter',
  'Paul',
  'Grace',
  'Joseph',
  'Daniel',
  'Samuel',
  'Chinedu',
  'Emeka',
  'Ngozi',
  'Kwame',
  'Kofi',
  'Ama',
  'Wanjiru',
  'Otieno',
  'Achieng',
  'Kamau',
  'Wei',
  'Li',
  'Jun',
  'Hiroshi',
  'Yuki',
  'Min',
  'Jose',
  'Maria',
  'Juan',
  'Carlos',
  'Luis',
  'Ana',
  'Pedro',
  'Miguel',
  'Jean',
  'Pierre',
  'Marie',
  'Hans',
  'Klaus',
  'Giorgos',
  'Nikos',
  'Mehmet',
  'Ayse',
  'Reza',
  'Hossein',
  'Zahra',
  'Arjun',
  'Priya',
  'Rahul',
  'Nguyen',
  'Thanh',
  'Abdul',
];
const FAMILY = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Garcia',
  'Martinez',
  'Lopez',
  'Hernandez',
  'Ivanov',
  'Petrov',
  'Smirnov',
  'Kuznetsov',
  'Popov',
  'Sokolov',
  'Volkov',
  'Hassan',
  'Ali',
  'Khan',
  'Rahman',
  'Hussein',
  'Mansour',
  'Haddad',
  'Nasser',
  'Okafor',
  'Mensah',
  'Mwangi',
  'Otieno',
  'Kamau',
  'Ochieng',
  'Wang',
  'Zhang',
  'Chen',
  'Liu',
  'Tanaka',
  'Suzuki',
  'Kim',
  'Park',
  'Nguyen',
  'Tran',
  'Dubois',
  'Martin',
  'Muller',
  'Schmidt',
  'Rossi',
  'Papadopoulos',
  'Yilmaz',
  'Kaya',
  'Sharma',
  'Patel',
  'Singh',
  'Silva',
  'Santos',
  'Pereira',
];
const SYLLABLES = [
  'ka',
  'ri',
  'mo',
  'ta',
  'na',
  'se',
  'lo',
  'vi',
  'do',
  'ru',
  'ba',
  'ne',
  'shi',
  'ko',
  'ma',
  'di',
  'ga',
  'le',
  'zu',
  'fa',
  'ho',
  'pe',
  'tu',
  'ra',
  'mi',
  'so',
  'ya',
  'wa',
  'ke',
  'bo',
  'nu',
  'li',
  'za',
  'chi',
  'vo',
  'ge',
  'an',
  'el',
  'or',
  'in',
  'ov',
  'ev',
  'ski',
  'ich',
  'ani',
  'uma',
  'eko',
  'ande',
  'ura',
  'iti',
];
const NATIONALITIES = [
  'RU',
  'IR',
  'KP',
  'SY',
  'AF',
  'IQ',
  'NG',
  'KE',
  'SO',
  'SD',
  'YE',
  'LY',
  'CN',
  'VE',
  'BY',
  'MM',
];

/** mulberry32: a tiny seeded PRNG, so every run builds the same list. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(random: () => number, items: readonly T[]): T =>
  items[Math.floor(random() * items.length)] as T;

function syllableName(random: () => number): string {
  const count = 2 + Math.floor(random() * 3);
  let name = '';
  for (let i = 0; i < count; i += 1) name += pick(random, SYLLABLES);
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** A person's name: one or two given names and a family name (a third of them from the real-world pool). */
export function syntheticName(random: () => number): string {
  const given = pick(random, GIVEN);
  const middle = random() < 0.3 ? ` ${pick(random, GIVEN)}` : '';
  const family = random() < 0.33 ? pick(random, FAMILY) : syllableName(random);
  return `${given}${middle} ${family}`;
}

/** `count` entries; every fifth has an alias (the family name first, or another given name). */
export function syntheticEntries(count: number, seed = 20): IndexEntry[] {
  const random = seededRandom(seed);
  const entries: IndexEntry[] = new Array(count);
  for (let i = 0; i < count; i += 1) {
    const name = syntheticName(random);
    const aliases = random() < 0.2 ? [`${syllableName(random)} ${name.split(' ').slice(-1)[0]}`] : [];
    const year = 1940 + Math.floor(random() * 65);
    const month = String(1 + Math.floor(random() * 12)).padStart(2, '0');
    const day = String(1 + Math.floor(random() * 28)).padStart(2, '0');
    entries[i] = {
      id: `syn-${i}`,
      source: 'opensanctions',
      externalId: `SYN-${i}`,
      kind: 'person',
      name,
      aliases,
      birthDates: random() < 0.7 ? [`${year}-${month}-${day}`] : [],
      nationalities: random() < 0.8 ? [pick(random, NATIONALITIES)] : [],
      pep: random() < 0.1,
    };
  }
  return entries;
}
