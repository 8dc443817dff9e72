/** TypeBox schemas of the goAML report routes (`/api/v1/aml/reports…`, `/api/v1/aml/cases/{caseId}/str`). */
import { Type } from 'typebox';
import { PageQuery, pageOf } from '../../platform/http.ts';
import { REPORT_KINDS } from './aml.tables.ts';

const Uuid = Type.String({ format: 'uuid' });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) =>
  Type.Union([schema, Type.Null()]);

export const ReportIdParams = Type.Object({ id: Uuid });
export const CaseIdParams = Type.Object({ caseId: Uuid });

export const ReportView = Type.Object({
  id: Uuid,
  kind: Type.Enum(REPORT_KINDS, {
    description: 'STR (suspicious transaction report) or CTR (cash transaction report)',
  }),
  case_id: Nullable(Uuid),
  customer_id: Nullable(Uuid),
  transaction_ids: Type.Array(Uuid, { description: 'The transactions the report lists' }),
  created_by: Nullable(
    Type.String({ description: 'The staff user who generated it; null for an automatic CTR' }),
  ),
  created_at: Type.String({ format: 'date-time' }),
  xml_bytes: Type.Integer({ minimum: 0, description: 'Size of the goAML XML (download it at …/xml)' }),
});

export const ReportPage = pageOf(ReportView);

export const ReportListQuery = Type.Intersect([
  PageQuery,
  Type.Object({
    kind: Type.Optional(Type.Enum(REPORT_KINDS)),
    case_id: Type.Optional(Uuid),
    customer_id: Type.Optional(Uuid),
  }),
]);

export const ReportXml = Type.String({ description: 'The goAML report XML, validated against the schema' });
