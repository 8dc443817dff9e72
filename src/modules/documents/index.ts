/** Documents: byte-checked uploads, envelope-encrypted storage, review, attachment downloads. */
import { defineModule } from '../../platform/modules.ts';
import { documentsConfig } from './documents.config.ts';
import { documentErrorCatalogue } from './documents.errors.ts';
import { documentRoutes } from './documents.routes.ts';
import { DocumentsService, expireDocuments } from './documents.service.ts';
import { documentDirectory, LocalDirectoryStorage } from './documents.storage.ts';
import { documents } from './documents.tables.ts';

export { inspectDocument } from './documents.inspect.ts';
export {
  documentTypesOnFile,
  rewrapDocumentKeys,
  verifiedDocumentTypes,
} from './documents.repository.ts';
export { expireDocuments } from './documents.service.ts';

export const documentsModule = defineModule({
  name: 'documents',
  description: 'Byte-checked uploads, envelope-encrypted storage, review, attachment downloads',
  dependsOn: ['customers'],
  errors: documentErrorCatalogue,
  tables: { documents },
  config: documentsConfig,
  permissions: [
    { code: 'document:read', description: 'Download documents' },
    { code: 'document:upload', description: 'Upload documents' },
    { code: 'document:review', description: 'Verify or reject documents' },
  ],
  create: ({ deps }) =>
    new DocumentsService(deps, new LocalDirectoryStorage(documentDirectory(deps.config.DATA_DIR))),
  routes: (documents, { config }) => documentRoutes(documents, config.DOCUMENT_MAX_BYTES),
  jobs: () => [{ name: 'documents.expire', schedule: '55 0 * * *', run: expireDocuments }],
});
