/**
 * Master-key rotation: every data key wrapped under a retired master key is re-wrapped under the active one.
 * Payloads (documents, PII, secrets) are not re-encrypted; only their small wrapped keys change. Idempotent:
 * rows already under the active key are skipped, so an interrupted run can simply be run again. Each module
 * re-wraps its own columns (src/platform/key-rotation.ts).
 */
import { rewrapCustomerKeys } from './modules/customers/index.ts';
import { rewrapDocumentKeys } from './modules/documents/index.ts';
import { rewrapIdentityKeys } from './modules/identity/index.ts';
import type { KeyRing } from './platform/crypto.ts';
import type { Executor } from './platform/db.ts';

/** The count of re-wrapped values per `<table>.<column>`. */
export async function rewrapAll(db: Executor, ring: KeyRing): Promise<Record<string, number>> {
  return {
    ...(await rewrapIdentityKeys(db, ring)),
    ...(await rewrapCustomerKeys(db, ring)),
    ...(await rewrapDocumentKeys(db, ring)),
  };
}
