/** Documents: byte-checked uploads, envelope-encrypted storage, review, attachment downloads. */
import type { FastifyPluginAsync } from 'fastify';
import type { Dependencies } from '../../platform/dependencies.ts';
import { documentRoutes } from './documents.routes.ts';
import { DocumentsService } from './documents.service.ts';
import { documentDirectory, LocalDirectoryStorage } from './documents.storage.ts';

export { inspectDocument } from './documents.inspect.ts';
export { documentTypesOnFile, expireDocuments, verifiedDocumentTypes } from './documents.service.ts';
export { documents } from './documents.tables.ts';

export function documentsModule(deps: Dependencies): FastifyPluginAsync {
  return async (app) => {
    const storage = new LocalDirectoryStorage(documentDirectory(deps.config.DATA_DIR));
    await app.register(documentRoutes(new DocumentsService(deps, storage), deps.config.DOCUMENT_MAX_BYTES));
  };
}
