/**
 * Builds the fraud area from the modules it reads (identity's devices, kyc's decisions, wallets) and the
 * phone-ownership provider when one is configured. index.ts calls it in `create` and connects it to the pipeline.
 */
import {
  type PhoneOwnership,
  PhoneOwnershipClient,
} from '../../integrations/phone-ownership/phone-ownership.client.ts';
import { integer, text, url, variable } from '../../platform/config-spec.ts';
import type { ModuleContext } from '../../platform/modules.ts';
import { identityModule } from '../identity/index.ts';
import { kycModule } from '../kyc/index.ts';
import { walletsModule } from '../wallets/index.ts';
import { fraudSources } from './loans.fraud.sources.ts';
import { FraudService } from './loans.fraud.ts';

/** The fraud area's variables (loans' `config` in index.ts; documented in .env.example). */
export const fraudConfig = {
  PHONE_OWNERSHIP_URL: variable(
    'Phone-ownership provider API root (POST /v1/phone/ownership); unset: the loan phone-owner fraud rule uses our own phone verification and device history.',
    undefined,
    url(['https:', 'http:']),
  ),
  PHONE_OWNERSHIP_API_KEY: variable('Phone-ownership provider API key (X-Api-Key).', undefined, text, true),
  PHONE_OWNERSHIP_TIMEOUT_MS: variable('Timeout of one phone-ownership call.', '5000', integer(100, 60000)),
};

/** The fraud service with its sources, and the phone-ownership client when a provider is configured. */
export function buildFraudService(
  ctx: ModuleContext,
  config: {
    PHONE_OWNERSHIP_URL?: string;
    PHONE_OWNERSHIP_API_KEY?: string;
    PHONE_OWNERSHIP_TIMEOUT_MS: number;
  },
): FraudService {
  let phoneOwnership: PhoneOwnership | null = null;
  if (config.PHONE_OWNERSHIP_URL) {
    if (!config.PHONE_OWNERSHIP_API_KEY)
      throw new Error('PHONE_OWNERSHIP_API_KEY is required when PHONE_OWNERSHIP_URL is set');
    phoneOwnership = new PhoneOwnershipClient({
      baseUrl: config.PHONE_OWNERSHIP_URL,
      apiKey: config.PHONE_OWNERSHIP_API_KEY,
      timeoutMs: config.PHONE_OWNERSHIP_TIMEOUT_MS,
    });
  }
  const sources = fraudSources({
    identity: ctx.use(identityModule),
    kyc: ctx.use(kycModule).kyc,
    wallets: ctx.use(walletsModule),
    phoneOwnership,
  });
  return new FraudService(ctx.deps.database.db, sources);
}
