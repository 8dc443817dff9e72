/** The documents module's own environment variables (parsed with the rest at start-up; `.env.example` lists them). */
import { integer, variable } from '../../platform/config-spec.ts';

export const documentsConfig = {
  DOCUMENT_MAX_BYTES: variable('Largest document upload, in bytes.', '10485760', integer(1024, 104857600)),
};
