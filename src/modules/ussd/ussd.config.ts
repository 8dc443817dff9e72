/** The USSD engine's own environment variables (the gateways' are in ussd.gateways.config.ts). */
import { integer, oneOf, variable } from '../../platform/config-spec.ts';

export const engineConfig = {
  USSD_DEFAULT_LANGUAGE: variable(
    'Language of the USSD menus for an unknown number and for customers who did not choose one (en, fr or sw).',
    'en',
    oneOf('en', 'fr', 'sw'),
  ),
  USSD_STEP_BUDGET_MS: variable(
    'Longest a USSD step waits on a slow dependency (ms): beyond it the session ends with "Service busy, you will receive an SMS" and the outcome goes by SMS once known. Keep it under the gateway\'s own limit (10 s at Africa\'s Talking).',
    '8000',
    integer(100, 14000),
  ),
  USSD_DUPLICATE_WINDOW_MS: variable(
    'For gateways that send only the latest input and no step number (Arkesel, Nalo): the same input again within this many ms is taken as the gateway retrying the step, not as a new answer. Short: a person reads a screen before answering it, while a network duplicate comes at once; 0 turns it off.',
    '1500',
    integer(0, 30000),
  ),
};

export interface EngineConfig {
  readonly USSD_DEFAULT_LANGUAGE: 'en' | 'fr' | 'sw';
  readonly USSD_STEP_BUDGET_MS: number;
  readonly USSD_DUPLICATE_WINDOW_MS: number;
}
