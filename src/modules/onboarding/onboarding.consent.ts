/**
 * Consent: the terms of service and the privacy policy are versioned documents, each version immutable and named by
 * the SHA-256 of its body. The app shows the current versions (in the registration's language, English otherwise)
 * and accepts them by sending their hashes back; the acceptance stores both hashes, the time, the IP and the device.
 * The first English versions are seeded from seed/*.en.md; staff publish later versions.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { and, desc, eq, inArray } from 'drizzle-orm';
import type { Static } from 'typebox';
import { type RequestContext, writeAudit } from '../../platform/audit.ts';
import { type Executor, inTransaction, violatedConstraint } from '../../platform/db.ts';
import { uuidv7 } from '../../platform/ids.ts';
import { type StepRequest, stepAnswer } from './onboarding.contacts.ts';
import { onboardingErrors } from './onboarding.errors.ts';
import type {
  CurrentDocuments,
  DocumentPublish,
  DocumentView,
  StepAnswer,
} from './onboarding.journey.schemas.ts';
import type { Journey } from './onboarding.journey.ts';
import { onboardingDocuments } from './onboarding.tables.ts';

type Kind = 'terms' | 'privacy';
type DocumentRow = typeof onboardingDocuments.$inferSelect;

export const contentHash = (body: string) => createHash('sha256').update(body, 'utf8').digest('hex');

function view(row: DocumentRow): Static<typeof DocumentView> {
  return {
    kind: row.kind,
    version: row.version,
    language: row.language,
    title: row.title,
    body: row.body,
    content_hash: row.contentHash,
    published_at: row.publishedAt.toISOString(),
  };
}

/** The newest version of a kind in a language (falling back to English). */
async function currentOf(db: Executor, kind: Kind, language: string): Promise<DocumentRow | undefined> {
  const languages = [...new Set([language.toLowerCase(), language.slice(0, 2).toLowerCase(), 'en'])];
  const rows = await db
    .select()
    .from(onboardingDocuments)
    .where(and(eq(onboardingDocuments.kind, kind), inArray(onboardingDocuments.language, languages)))
    .orderBy(desc(onboardingDocuments.publishedAt), desc(onboardingDocuments.id));
  for (const wanted of languages) {
    const found = rows.find((row) => row.language === wanted);
    if (found) return found;
  }
  return undefined;
}

export class Consent {
  readonly #journey: Journey;

  constructor(journey: Journey) {
    this.#journey = journey;
  }

  async current(language = 'en'): Promise<Static<typeof CurrentDocuments>> {
    const [terms, privacy] = await Promise.all([
      currentOf(this.#journey.db, 'terms', language),
      currentOf(this.#journey.db, 'privacy', language),
    ]);
    if (!terms) throw onboardingErrors.REGISTRATION_DOCUMENT_MISSING({ params: { kind: 'terms' } });
    if (!privacy) throw onboardingErrors.REGISTRATION_DOCUMENT_MISSING({ params: { kind: 'privacy' } });
    return { terms: view(terms), privacy: view(privacy) };
  }

  /** Staff publish a new version (409 REGISTRATION_DOCUMENT_EXISTS for a version already published). */
  async publish(
    input: Static<typeof DocumentPublish>,
    context: RequestContext,
  ): Promise<Static<typeof DocumentView>> {
    const row = {
      id: uuidv7(),
      kind: input.kind,
      version: input.version,
      language: input.language,
      title: input.title,
      body: input.body,
      contentHash: contentHash(input.body),
      publishedAt: new Date(),
    };
    try {
      return await inTransaction(this.#journey.db, async (tx) => {
        const [inserted] = await tx.insert(onboardingDocuments).values(row).returning();
        await writeAudit(tx, context, {
          action: 'onboarding.document_publish',
          entityType: 'onboarding_document',
          entityId: row.id,
          after: {
            kind: row.kind,
            version: row.version,
            language: row.language,
            content_hash: row.contentHash,
          },
        });
        return view(inserted!);
      });
    } catch (error) {
      if (violatedConstraint(error) === 'onboarding_documents_version_key')
        throw onboardingErrors.REGISTRATION_DOCUMENT_EXISTS({
          params: { version: input.version, kind: input.kind, language: input.language },
        });
      throw error;
    }
  }

  /** The terms step: both hashes must be the current versions' (409 REGISTRATION_DOCUMENT_OUTDATED otherwise). */
  async accept(
    request: StepRequest,
    body: { terms_hash: string; privacy_hash: string },
  ): Promise<Static<typeof StepAnswer>> {
    const row = await this.#journey.byToken(request.token, request.deviceId);
    const requestHash = this.#journey.requestHash('terms_accept', body, request.idempotencyKey);
    const stored = await this.#journey.replay(row.id, 'terms_accept', requestHash);
    if (stored) return stored.answer as Static<typeof StepAnswer>;
    this.#journey.assertAllowed(row, 'terms_accept');
    const current = await this.current(row.language);
    if (body.terms_hash !== current.terms.content_hash)
      throw onboardingErrors.REGISTRATION_DOCUMENT_OUTDATED({
        params: { kind: 'terms' },
        details: { kind: 'terms', current_version: current.terms.version },
      });
    if (body.privacy_hash !== current.privacy.content_hash)
      throw onboardingErrors.REGISTRATION_DOCUMENT_OUTDATED({
        params: { kind: 'privacy policy' },
        details: { kind: 'privacy', current_version: current.privacy.version },
      });
    const done = await this.#journey.advanceNow<Static<typeof StepAnswer>>(
      row.id,
      'terms_accept',
      {
        termsVersionHash: body.terms_hash,
        privacyVersionHash: body.privacy_hash,
        consentAt: new Date(),
        consentIp: request.context.ip,
        consentDeviceId: row.deviceId,
      },
      {
        requestHash,
        answer: stepAnswer,
        context: request.context,
        audit: { terms_version: current.terms.version, privacy_version: current.privacy.version },
      },
    );
    return done.answer;
  }
}

/** Seeds version 1 of the English terms and privacy policy once (idempotent: an existing version is kept). */
export async function seedDocuments(db: Executor): Promise<void> {
  const sources: [Kind, string, string][] = [
    ['terms', 'terms.en.md', 'Terms of service'],
    ['privacy', 'privacy.en.md', 'Privacy policy'],
  ];
  for (const [kind, file, title] of sources) {
    const body = await readFile(join(import.meta.dirname, 'seed', file), 'utf8');
    await db
      .insert(onboardingDocuments)
      .values({
        id: uuidv7(),
        kind,
        version: '1',
        language: 'en',
        title,
        body,
        contentHash: contentHash(body),
      })
      .onConflictDoNothing();
  }
}
