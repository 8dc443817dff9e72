/**
 * goAML report routes (staff with `aml:*` only; nothing here is reachable by customers or agent operators): the list
 * and metadata (`aml:read`), the XML download and an STR for a case on demand (`aml:reports`).
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { contextOf } from '../../platform/http.ts';
import {
  CaseIdParams,
  ReportIdParams,
  ReportListQuery,
  ReportPage,
  ReportView,
} from './aml.reports.schemas.ts';
import type { ReportsService } from './aml.reports.ts';

const TAGS = ['aml'];

export function reportRoutes(reports: ReportsService): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      '/api/v1/aml/reports',
      {
        config: { access: { permission: 'aml:read' } },
        schema: {
          operationId: 'listAmlReports',
          tags: TAGS,
          summary: 'goAML reports (STR and CTR), newest first (filters: kind, case, customer)',
          querystring: ReportListQuery,
          response: { 200: ReportPage },
        },
      },
      async (request) => reports.list(request.query),
    );

    app.get(
      '/api/v1/aml/reports/:id',
      {
        config: { access: { permission: 'aml:read' } },
        schema: {
          operationId: 'getAmlReport',
          tags: TAGS,
          summary: 'One goAML report’s metadata (kind, case, customer, transactions)',
          params: ReportIdParams,
          response: { 200: ReportView },
        },
      },
      async (request) => reports.get(request.params.id),
    );

    app.get(
      '/api/v1/aml/reports/:id/xml',
      {
        config: { access: { permission: 'aml:reports' } },
        schema: {
          operationId: 'getAmlReportXml',
          tags: TAGS,
          summary: 'Download a goAML report’s XML (validated against goaml/goAML_report.xsd when generated)',
          params: ReportIdParams,
          response: {
            200: {
              description: 'The goAML report as an XML attachment',
              content: { 'application/xml': { schema: { type: 'string' } } },
            },
          },
        },
      },
      async (request, reply) => {
        const { kind, xml } = await reports.xml(request.params.id);
        return reply
          .type('application/xml; charset=utf-8')
          .header(
            'content-disposition',
            `attachment; filename="goaml-${kind.toLowerCase()}-${request.params.id}.xml"`,
          )
          .send(xml as never);
      },
    );

    app.post(
      '/api/v1/aml/cases/:caseId/str',
      {
        config: { access: { permission: 'aml:reports' } },
        schema: {
          operationId: 'generateAmlCaseStr',
          tags: TAGS,
          summary:
            'Generate a goAML STR for a case (its alerts’ transactions) without deciding or closing it',
          description:
            'Builds the suspicious transaction report from the transactions the case’s alerts name and the people ' +
            'and wallets in them, validates it against the schema and stores it; the case’s trail records it. ' +
            '404 for an unknown case; 422 when the alerts name no transaction.',
          params: CaseIdParams,
          response: { 201: ReportView },
        },
      },
      async (request, reply) =>
        reply.code(201).send(await reports.fileStr(request.params.caseId, contextOf(request))),
    );
  };
}
