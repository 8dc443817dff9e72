/** HTTP routes of `/api/v1/document`: multipart upload, metadata, download as attachment, review. */
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { AppError, commonErrors } from '../../platform/errors.ts';
import { contextOf, requirePrincipal } from '../../platform/http.ts';
import { documentErrors } from './documents.errors.ts';
import { DOCUMENT_TYPES, type DocumentsService } from './documents.service.ts';

const DocumentView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  customer_id: Type.String({ format: 'uuid' }),
  document_type: Type.String(),
  status: Type.String(),
  mime_type: Type.String(),
  size_bytes: Type.Integer(),
  sha256: Type.String(),
  uploaded_by: Type.Object({ type: Type.String(), id: Type.Union([Type.String(), Type.Null()]) }),
  reviewed_by: Type.Union([Type.String(), Type.Null()]),
  reviewed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  review_reason: Type.Union([Type.String(), Type.Null()]),
  expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
});
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const ListQuery = Type.Object({ customer_id: Type.String({ format: 'uuid' }) });
const Review = Type.Object({
  document_id: Type.String({ format: 'uuid' }),
  decision: Type.Union([Type.Literal('verified'), Type.Literal('rejected')]),
  reason: Type.Optional(Type.String({ minLength: 3, maxLength: 500 })),
  expires_at: Type.Optional(
    Type.String({ format: 'date-time', description: 'When the document itself expires' }),
  ),
});

/** The upload's parts, in the order they must be sent (documented; the handler reads them as a stream). */
const UploadForm = Type.Object({
  customer_id: Type.String({ format: 'uuid' }),
  document_type: Type.Union(DOCUMENT_TYPES.map((type) => Type.Literal(type))),
  file: Type.String({ format: 'binary', description: 'PDF, JPEG or PNG' }),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The multipart parser's own errors (a body cut short, no boundary, a broken part header) carry no status and would
 * answer 500: they are the client's malformed request. Its limit errors already carry their 4xx status.
 */
function multipartError(error: unknown): never {
  const status = (error as { statusCode?: unknown }).statusCode;
  if (error instanceof AppError || (typeof status === 'number' && status >= 400 && status < 500)) throw error;
  throw documentErrors.malformedMultipart(
    error instanceof Error ? error.message.slice(0, 200) : 'unreadable',
  );
}

export function documentRoutes(service: DocumentsService, maxBytes: number): FastifyPluginAsyncTypebox {
  return async (app) => {
    await app.register(multipart, {
      limits: { fileSize: maxBytes, files: 1, fields: 4, fieldSize: 256, parts: 5 },
    });

    app.post(
      '/api/v1/document/document/upload',
      {
        config: {
          access: { permission: 'document:upload', allowCustomer: true },
          multipart: {
            schema: UploadForm,
            description:
              'multipart/form-data: the fields `customer_id` and `document_type` first, then one file part. ' +
              'Fields are read only before the file: sent after it they are missing (422).',
          },
        },
        schema: {
          operationId: 'uploadDocument',
          tags: ['document'],
          summary: 'Upload a document (multipart: customer_id, document_type, then the file)',
          description:
            'PDF, JPEG or PNG, recognised by their bytes; the file name and claimed type are ignored. ' +
            'Stored encrypted; hostile files are refused with 422 DOCUMENT_REJECTED.',
          consumes: ['multipart/form-data'],
          response: { 201: DocumentView },
        },
      },
      async (request, reply) => {
        if (!request.isMultipart()) throw documentErrors.notMultipart();
        const part = await request.file().catch(multipartError);
        if (!part)
          throw commonErrors.validation('No file was sent', {
            errors: [{ field: 'file', message: 'is required' }],
          });
        const field = (name: string) => {
          const value = part.fields[name];
          return value && !Array.isArray(value) && value.type === 'field' ? String(value.value) : undefined;
        };
        const customerId = field('customer_id');
        const documentType = field('document_type');
        if (!customerId || !UUID.test(customerId) || !documentType) {
          throw commonErrors.validation('customer_id and document_type must come before the file', {
            errors: [
              { field: 'customer_id', message: 'is required (a UUID), before the file' },
              { field: 'document_type', message: 'is required, before the file' },
            ],
          });
        }
        let data: Buffer;
        try {
          data = await part.toBuffer();
        } catch (error) {
          if ((error as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') {
            throw documentErrors.tooLarge(maxBytes);
          }
          return multipartError(error);
        }
        const view = await service.upload(
          customerId,
          documentType,
          data,
          requirePrincipal(request),
          contextOf(request),
        );
        return reply.code(201).send(view);
      },
    );

    app.get(
      '/api/v1/document/document',
      {
        config: { access: { permission: 'document:read', allowCustomer: true } },
        schema: {
          operationId: 'listDocuments',
          tags: ['document'],
          summary: 'A customer’s documents',
          querystring: ListQuery,
          response: { 200: Type.Object({ items: Type.Array(DocumentView) }) },
        },
      },
      async (request) => service.list(request.query.customer_id, requirePrincipal(request)),
    );

    app.get(
      '/api/v1/document/document/:id',
      {
        config: { access: { permission: 'document:read', allowCustomer: true } },
        schema: {
          operationId: 'getDocument',
          tags: ['document'],
          summary: 'Document metadata',
          params: IdParams,
          response: { 200: DocumentView },
        },
      },
      async (request) => service.get(request.params.id, requirePrincipal(request)),
    );

    app.get(
      '/api/v1/document/document/:id/download',
      {
        config: { access: { permission: 'document:read', allowCustomer: true } },
        schema: {
          operationId: 'downloadDocument',
          tags: ['document'],
          summary: 'The document’s bytes, as an attachment (never rendered inline)',
          params: IdParams,
          response: {
            200: {
              description: 'The file, in the type its bytes were recognised as',
              content: Object.fromEntries(
                ['application/pdf', 'image/jpeg', 'image/png'].map((type) => [
                  type,
                  { schema: { type: 'string', format: 'binary' } },
                ]),
              ),
            },
          },
        },
      },
      async (request, reply) => {
        const file = await service.download(request.params.id, requirePrincipal(request), contextOf(request));
        return reply
          .type(file.mime)
          .header('content-disposition', `attachment; filename="${file.filename}"`)
          .header('x-content-type-options', 'nosniff')
          .header('content-security-policy', "default-src 'none'; sandbox")
          .send(file.data);
      },
    );

    app.post(
      '/api/v1/document/document/review',
      {
        config: { access: { permission: 'document:review' } },
        schema: {
          operationId: 'reviewDocument',
          tags: ['document'],
          summary: 'Verify or reject an uploaded document',
          body: Review,
          response: { 200: DocumentView },
        },
      },
      async (request) =>
        service.review(
          request.body.document_id,
          request.body.decision,
          request.body.reason,
          request.body.expires_at,
          contextOf(request),
        ),
    );
  };
}
