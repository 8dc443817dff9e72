/**
 * Documents: uploads checked by their bytes, encrypted with a per-file data key (AES-256-GCM, wrapped by the master
 * key), checksummed, reviewed by staff, and served back only to their owner or permitted staff. Tampered ciphertext
 * fails authentication and is refused.
 */
import { createHash } from 'node:crypto';
import { type RequestContext, systemContext, writeAudit } from '../../platform/audit.ts';
import { DecryptionError, openEnvelope, sealEnvelope } from '../../platform/crypto.ts';
import { type Executor, inTransaction } from '../../platform/db.ts';
import type { Dependencies } from '../../platform/dependencies.ts';
import { commonErrors } from '../../platform/errors.ts';
import { assertOwnership, type Principal } from '../../platform/http.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { customerStanding } from '../customers/index.ts';
import { documentErrors } from './documents.errors.ts';
import { inspectDocument } from './documents.inspect.ts';
import {
  documentsOfCustomer,
  expireVerifiedDocuments,
  findDocument,
  insertDocument,
  type DocumentRow as Row,
  recordReview,
} from './documents.repository.ts';
import type { DocumentStorage } from './documents.storage.ts';

export const DOCUMENT_TYPES = [
  'national_id',
  'passport',
  'drivers_license',
  'proof_of_address',
  'selfie',
  'business_registration',
  'tax_certificate',
  'payslip',
  'bank_statement',
] as const;

export function documentView(row: Row) {
  return {
    id: row.id,
    customer_id: row.customerId,
    document_type: row.documentType,
    status: row.status,
    mime_type: row.mimeType,
    size_bytes: row.sizeBytes,
    sha256: row.sha256,
    uploaded_by: { type: row.uploadedByType, id: row.uploadedById },
    reviewed_by: row.reviewedById,
    reviewed_at: row.reviewedAt?.toISOString() ?? null,
    review_reason: row.reviewReason,
    expires_at: row.expiresAt?.toISOString() ?? null,
    created_at: row.createdAt.toISOString(),
  };
}

export class DocumentsService {
  readonly #deps: Dependencies;
  readonly #storage: DocumentStorage;

  constructor(deps: Dependencies, storage: DocumentStorage) {
    this.#deps = deps;
    this.#storage = storage;
  }

  get #db(): Executor {
    return this.#deps.database.db;
  }

  async upload(
    customerId: string,
    documentType: string,
    data: Buffer,
    principal: Principal,
    context: RequestContext,
  ) {
    assertOwnership(principal, customerId);
    if (!(DOCUMENT_TYPES as readonly string[]).includes(documentType))
      throw documentErrors.unknownType(documentType);
    const customer = await customerStanding(this.#db, customerId);
    if (!customer || customer.erasedAt) throw commonErrors.notFound('Customer');
    const inspection = await inspectDocument(data);
    if (!inspection.ok) throw documentErrors.rejected(inspection.reason);
    const id = uuidv7();
    const envelope = sealEnvelope(this.#deps.keys, data, `document:${id}`);
    await this.#storage.put(id, Buffer.from(envelope.payload));
    try {
      return await inTransaction(this.#db, async (tx) => {
        const row = await insertDocument(tx, {
          id,
          customerId,
          documentType,
          status: 'uploaded',
          mimeType: inspection.mime,
          sizeBytes: data.length,
          sha256: createHash('sha256').update(data).digest('hex'),
          wrappedKey: envelope.wrappedKey,
          uploadedByType: principal.type,
          uploadedById: principal.id,
        });
        const view = documentView(row);
        await writeAudit(tx, context, {
          action: 'document.uploaded',
          entityType: 'document',
          entityId: id,
          after: view,
        });
        return view;
      });
    } catch (error) {
      await this.#storage.delete(id).catch(() => {});
      throw error;
    }
  }

  async #row(id: string, principal: Principal): Promise<Row> {
    const row = await findDocument(this.#db, id);
    if (!row) throw commonErrors.notFound('Document');
    assertOwnership(principal, row.customerId, 'Document');
    return row;
  }

  async get(id: string, principal: Principal) {
    return documentView(await this.#row(id, principal));
  }

  async list(customerId: string, principal: Principal) {
    assertOwnership(principal, customerId, 'Document');
    const rows = await documentsOfCustomer(this.#db, customerId, 100);
    return { items: rows.map(documentView) };
  }

  /** Decrypts and checks the checksum; a tampered file never reaches the caller. */
  async download(id: string, principal: Principal, context: RequestContext) {
    const row = await this.#row(id, principal);
    let data: Buffer;
    try {
      const payload = (await this.#storage.get(id)).toString('utf8');
      data = openEnvelope(this.#deps.keys, { wrappedKey: row.wrappedKey, payload }, `document:${id}`);
    } catch (error) {
      // A missing file is an integrity failure too; the operator sees it in the logs, the caller a clean 409.
      if (error instanceof DecryptionError || (error as { code?: string }).code === 'ENOENT')
        throw documentErrors.integrity();
      throw error;
    }
    if (createHash('sha256').update(data).digest('hex') !== row.sha256) throw documentErrors.integrity();
    await inTransaction(this.#db, (tx) =>
      writeAudit(tx, context, { action: 'document.downloaded', entityType: 'document', entityId: id }),
    );
    const extension =
      row.mimeType === 'application/pdf' ? 'pdf' : row.mimeType === 'image/png' ? 'png' : 'jpg';
    return { data, mime: row.mimeType, filename: `${row.documentType}-${id}.${extension}` };
  }

  async review(
    id: string,
    decision: 'verified' | 'rejected',
    reason: string | undefined,
    expiresAt: string | undefined,
    context: RequestContext,
  ) {
    return inTransaction(this.#db, async (tx) => {
      const row = await findDocument(tx, id, true);
      if (!row) throw commonErrors.notFound('Document');
      if (row.status !== 'uploaded') throw documentErrors.notReviewable(row.status);
      // Four eyes: whoever uploaded a document (a field agent, a teller) does not also vouch for it.
      if (row.uploadedByType === 'user' && row.uploadedById === context.actor.id)
        throw documentErrors.ownDocument();
      const updated = await recordReview(tx, id, {
        status: decision,
        reviewedById: context.actor.id,
        reviewReason: reason ?? null,
        expiresAt: expiresAt ? new Date(expiresAt) : null,
      });
      const view = documentView(updated);
      await writeAudit(tx, context, {
        action: `document.${decision}`,
        entityType: 'document',
        entityId: id,
        before: { status: row.status },
        after: { status: decision, reason: reason ?? null },
      });
      return view;
    });
  }
}

/** Verified documents past their own expiry become `expired` (they stop counting for KYC); run daily. */
export async function expireDocuments(db: Executor): Promise<number> {
  return inTransaction(db, async (tx) => {
    const expired = await expireVerifiedDocuments(tx);
    for (const row of expired) {
      await writeAudit(tx, systemContext(), {
        action: 'document.expired',
        entityType: 'document',
        entityId: row.id,
      });
    }
    return expired.length;
  });
}
