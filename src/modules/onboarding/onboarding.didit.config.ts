/** The Didit identity path's environment variables (part of the onboarding module's `config`; `.env.example`). */
import { integer, text, url, variable } from '../../platform/config-spec.ts';

export const diditConfig = {
  DIDIT_BASE_URL: variable(
    'Didit API root (v3); `npm run fake:didit` prints the local fake’s.',
    'https://verification.didit.me',
    url(['https:', 'http:']),
  ),
  DIDIT_API_KEY: variable(
    'Didit API key (the x-api-key header). Unset: the Didit identity path answers 503 DIDIT_NOT_CONFIGURED.',
    undefined,
    text,
    true,
  ),
  DIDIT_WORKFLOW_ID: variable(
    'The Didit workflow (ID document, liveness, face match) each registration session runs; required with the key.',
    undefined,
    text,
  ),
  DIDIT_WEBHOOK_SECRET: variable(
    'The webhook destination’s shared secret: X-Signature-V2 / X-Signature / X-Signature-Simple are HMACs with it. ' +
      'Unset: every webhook is refused and decisions arrive by callback and polling only.',
    undefined,
    text,
    true,
  ),
  DIDIT_WEBHOOK_SECRET_PREVIOUS: variable(
    'The webhook secret before a rotation, still accepted (with the -Previous signature headers) until removed.',
    undefined,
    text,
    true,
  ),
  DIDIT_CALLBACK_URL: variable(
    'Where Didit sends the browser after verification. Unset: PUBLIC_BASE_URL + /api/v1/mobile/register/didit/callback.',
    undefined,
    url(['https:', 'http:']),
  ),
  DIDIT_TIMEOUT_MS: variable(
    'How long a Didit call may take (milliseconds) before Didit counts as unavailable.',
    '10000',
    integer(100, 120_000),
  ),
  DIDIT_POLL_AFTER_MINUTES: variable(
    'Minutes without a webhook before the polling job asks Didit for an open session’s decision.',
    '10',
    integer(1, 1440),
  ),
  DIDIT_POLL_MAX_INTERVAL_MINUTES: variable(
    'Polling backs off (doubling from DIDIT_POLL_AFTER_MINUTES) up to this interval, until a final status.',
    '240',
    integer(1, 10_080),
  ),
} as const;

export interface DiditConfigValues {
  readonly DIDIT_BASE_URL: string;
  readonly DIDIT_API_KEY: string | undefined;
  readonly DIDIT_WORKFLOW_ID: string | undefined;
  readonly DIDIT_WEBHOOK_SECRET: string | undefined;
  readonly DIDIT_WEBHOOK_SECRET_PREVIOUS: string | undefined;
  readonly DIDIT_CALLBACK_URL: string | undefined;
  readonly DIDIT_TIMEOUT_MS: number;
  readonly DIDIT_POLL_AFTER_MINUTES: number;
  readonly DIDIT_POLL_MAX_INTERVAL_MINUTES: number;
}
