/** Schemas of the screening area's routes: list versions, a name screened on request, screenings. */
import { Type } from 'typebox';
import { Nullable } from '../../platform/events.ts';
import { PageQuery } from '../../platform/http.ts';

const Source = Type.Union([Type.Literal('un'), Type.Literal('ofac'), Type.Literal('opensanctions')], {
  description:
    'un: UN Security Council consolidated list (XML); ofac: OFAC SDN (CSV); opensanctions: FtM JSON lines',
});

export const ListVersionView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  source: Source,
  version: Type.Integer(),
  origin: Type.String({ description: 'The file or URL it was loaded from (`upload` for the route).' }),
  checksum: Type.String({ description: 'SHA-256 of the file.' }),
  entry_count: Type.Integer(),
  added: Type.Integer({ description: 'Entries not in the previous version (by the list’s own id).' }),
  removed: Type.Integer(),
  changed: Type.Integer({
    description: 'Entries in both whose names, dates, countries or programmes differ.',
  }),
  loaded_at: Type.String({ format: 'date-time' }),
  current: Type.Boolean({ description: 'The version screening matches against.' }),
});

export const ListVersions = Type.Object({ items: Type.Array(ListVersionView) });

export const ListQuery = Type.Object({ source: Type.Optional(Source) }, { additionalProperties: false });

export const SourceParams = Type.Object({ source: Source });

export const ListLoaded = Type.Object({
  unchanged: Type.Boolean({
    description: 'True when the file is the current version’s (same checksum): nothing was loaded.',
  }),
  list: ListVersionView,
});

export const ScreenBody = Type.Object(
  {
    name: Type.String({ minLength: 2, maxLength: 200 }),
    birth_date: Type.Optional(
      Type.String({ pattern: '^[0-9]{4}(-[0-9]{2}(-[0-9]{2})?)?$', description: 'ISO date, or year' }),
    ),
    nationality: Type.Optional(
      Type.String({ pattern: '^[A-Za-z]{2,3}$', description: 'ISO 3166 alpha-2 (or alpha-3)' }),
    ),
  },
  { additionalProperties: false },
);

export const MatchView = Type.Object({
  entry_id: Type.String(),
  source: Source,
  external_id: Type.String(),
  name: Type.String(),
  score: Type.Number(),
  fields: Type.Record(Type.String(), Type.Unknown(), {
    description: 'Which fields matched (name or alias, birth date, nationality) and how.',
  }),
  pep: Type.Boolean(),
});

const Outcome = Type.Union([Type.Literal('clear'), Type.Literal('review'), Type.Literal('hit')]);

export const ScreenResult = Type.Object({
  id: Type.String({ format: 'uuid' }),
  outcome: Outcome,
  best_score: Type.Number(),
  matches: Type.Array(MatchView),
});

export const ScreeningView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  subject_kind: Type.String(),
  subject_id: Nullable(Type.String()),
  name: Type.String(),
  birth_date: Nullable(Type.String()),
  nationality: Nullable(Type.String()),
  outcome: Outcome,
  best_score: Type.Number(),
  matches: Type.Array(MatchView),
  list_versions: Type.Record(Type.String(), Type.Integer()),
  trigger: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
});

export const ScreeningQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    customer_id: Type.Optional(Type.String({ format: 'uuid' })),
    subject_kind: Type.Optional(
      Type.Union(
        ['onboarding', 'customer', 'beneficiary', 'agent', 'agent_owner', 'manual'].map((kind) =>
          Type.Literal(kind),
        ),
      ),
    ),
    outcome: Type.Optional(Outcome),
  }),
]);

export const ScreeningPage = Type.Object({
  items: Type.Array(ScreeningView),
  next_cursor: Nullable(Type.String()),
});
