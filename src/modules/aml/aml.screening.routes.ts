/**
 * Screening routes (staff with `aml:*` only; nothing here is reachable by customers or agent operators):
 * - the loaded list versions (`aml:read`) and a list file uploaded as the next version of its source (`aml:lists`);
 * - a name screened on request, and the screenings made (`aml:read`).
 * The upload takes the file as the request body in its published format (XML, CSV, JSON lines), so its plugin reads
 * every content type as bytes; the other routes take JSON.
 */
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Executor } from '../../platform/db.ts';
import { commonErrors } from '../../platform/errors.ts';
import { contextOf } from '../../platform/http.ts';
import { amlErrors } from './aml.errors.ts';
import { countryCode } from './aml.lists.parse.ts';
import {
  ListLoaded,
  ListQuery,
  ListVersions,
  ScreenBody,
  ScreeningPage,
  ScreeningQuery,
  ScreenResult,
  SourceParams,
} from './aml.lists.schemas.ts';
import type { ListLoader } from './aml.lists.ts';
import type { Screener } from './aml.ports.ts';
import { listScreenings } from './aml.screening.points.read.ts';

const TAGS = ['aml'];

/** Largest list file the upload takes; larger lists are loaded by the CLI or the watcher, from a file. */
export const LIST_UPLOAD_LIMIT_BYTES = 64 * 1024 * 1024;

const LIST_CONTENT_TYPES = [
  'application/xml',
  'text/xml',
  'text/csv',
  'application/x-ndjson',
  'application/jsonl',
  'application/json',
  'application/octet-stream',
  'text/plain',
];

export function listUploadRoutes(loader: ListLoader): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser(
      LIST_CONTENT_TYPES,
      { parseAs: 'buffer', bodyLimit: LIST_UPLOAD_LIMIT_BYTES },
      (_request, body, done) => done(null, body),
    );

    app.post(
      '/api/v1/aml/lists/:source',
      {
        bodyLimit: LIST_UPLOAD_LIMIT_BYTES,
        config: {
          access: { permission: 'aml:lists' },
          errors: ['AML_LIST_INVALID'],
          rawBody: {
            contentTypes: LIST_CONTENT_TYPES,
            description: 'The list file as published (XML, CSV or JSON lines), as the raw body',
            example:
              '{"id":"NK-fictional-1","schema":"Person","properties":{"name":["Jana Fiktivna"],"topics":["sanction"]}}',
          },
        },
        schema: {
          operationId: 'loadAmlList',
          tags: TAGS,
          summary: 'Load a sanctions or PEP list file as the next version of its source',
          description:
            'The body is the file in its published format: the UN consolidated list XML (`un`), OFAC’s sdn.csv ' +
            '(`ofac`; its alt.csv aliases are loaded by the CLI or the watcher) or OpenSanctions FollowTheMoney JSON ' +
            'lines (`opensanctions`), up to 64 MiB. The same file as the current version adds nothing (200, ' +
            '`unchanged`); otherwise 201 with the new version and its differences from the previous one, and every ' +
            'customer is rescreened in the background when there are differences.',
          params: SourceParams,
          response: { 200: ListLoaded, 201: ListLoaded },
        },
      },
      async (request, reply) => {
        const body = request.body as unknown;
        if (!Buffer.isBuffer(body) || body.length === 0)
          throw amlErrors.AML_LIST_INVALID({ params: { reason: 'the request has no file' } });
        const outcome = await loader.load(
          request.params.source,
          { origin: 'upload', open: () => Readable.from([body]) },
          undefined,
          contextOf(request),
        );
        return reply.code(outcome.unchanged ? 200 : 201).send(outcome);
      },
    );
  };
}

export function screeningRoutes(
  loader: ListLoader,
  screener: Screener,
  db: Executor,
): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/aml/lists',
      {
        config: { access: { permission: 'aml:read' } },
        schema: {
          operationId: 'listAmlLists',
          tags: TAGS,
          summary:
            'The loaded versions of the sanctions and PEP lists, newest first per source, with their counts',
          querystring: ListQuery,
          response: { 200: ListVersions },
        },
      },
      async (request) => ({ items: await loader.versions(request.query.source) }),
    );

    app.post(
      '/api/v1/aml/screen',
      {
        config: { access: { permission: 'aml:read' } },
        schema: {
          operationId: 'screenAmlName',
          tags: TAGS,
          summary: 'Screen a name (optionally with a birth date and nationality) against the current lists',
          description:
            'Recorded as a `manual` screening. Each match carries its score and the fields that matched; the ' +
            'outcome is `hit`, `review` or `clear` by the `aml.screening_thresholds` setting.',
          body: ScreenBody,
          response: { 200: ScreenResult },
        },
      },
      async (request) => {
        const born = request.body.birth_date;
        if (born && born.length === 10 && !isCalendarDate(born))
          throw commonErrors.validation('birth_date is not a calendar date', {
            errors: [{ field: 'body.birth_date', message: 'is not a calendar date' }],
          });
        const record = await screener.screen({
          kind: 'manual',
          name: request.body.name,
          birthDate: request.body.birth_date ?? null,
          nationality: request.body.nationality ? countryCode(request.body.nationality) : null,
          trigger: `staff:${contextOf(request).actor.id ?? 'unknown'}`,
        });
        return {
          id: record.id,
          outcome: record.outcome,
          best_score: record.bestScore,
          matches: record.matches,
        };
      },
    );

    app.get(
      '/api/v1/aml/screenings',
      {
        config: { access: { permission: 'aml:read' } },
        schema: {
          operationId: 'listAmlScreenings',
          tags: TAGS,
          summary: 'Screenings made, newest first (filters: customer, subject kind, outcome)',
          querystring: ScreeningQuery,
          response: { 200: ScreeningPage },
        },
      },
      async (request) => listScreenings(db, request.query),
    );
  };
}

function isCalendarDate(value: string): boolean {
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
}
