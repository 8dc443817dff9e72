/** The documents module's closed set of error codes. */
import { defineErrors, type ErrorDefinitions } from '../../platform/error-catalogue.ts';
import { commonErrors, platformErrorCatalogue as platform } from '../../platform/errors.ts';

const definitions = {
  DOCUMENT_REJECTED: {
    status: 422,
    message: 'The file was refused: {reason}',
    description: 'The file was refused: not a PDF, JPEG or PNG by its bytes, or it holds active content.',
  },
  DOCUMENT_INTEGRITY: {
    status: 409,
    message: 'The stored document failed its integrity check',
    description: 'The stored document failed its integrity check.',
  },
  NOT_REVIEWABLE: {
    status: 409,
    message: 'The document is {status}',
    description: 'The document was already reviewed.',
  },
  OWN_DOCUMENT: {
    status: 403,
    message: 'The staff member who uploaded a document cannot review it',
    description: 'The staff member who uploaded a document cannot review it.',
  },
} as const satisfies ErrorDefinitions;

type DocumentErrorCodes = typeof definitions;
declare module '../../platform/error-catalogue.ts' {
  interface ErrorCodes extends DocumentErrorCodes {}
}

export const documentErrorCatalogue = defineErrors('documents', definitions);
const codes = documentErrorCatalogue;

export const documentErrors = {
  rejected: (reason: string) => codes.DOCUMENT_REJECTED({ params: { reason }, details: { reason } }),
  unknownType: (type: string) =>
    commonErrors.validation(`Unknown document type ${type}`, { field: 'document_type' }),
  integrity: () => codes.DOCUMENT_INTEGRITY(),
  ownDocument: () => codes.OWN_DOCUMENT(),
  notReviewable: (status: string) => codes.NOT_REVIEWABLE({ params: { status }, details: { status } }),
  /** The multipart parser's own failure: the client's malformed request (`reason`, cut to 200 characters). */
  malformedMultipart: (reason: string) =>
    platform.MALFORMED_REQUEST({ message: 'The multipart body is malformed', details: { reason } }),
  notMultipart: () =>
    platform.UNSUPPORTED_MEDIA_TYPE({ message: 'Send the document as multipart/form-data' }),
  tooLarge: (maxBytes: number) =>
    platform.PAYLOAD_TOO_LARGE({ message: `Documents may be at most ${maxBytes} bytes` }),
};
