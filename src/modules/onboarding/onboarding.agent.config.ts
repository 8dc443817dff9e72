/** The agent-assisted registration area's environment variables (`.env.example` lists them). */
import { text, variable } from '../../platform/config-spec.ts';

export const agentRegistrationConfig = {
  ONBOARDING_TIER_AGENT: variable(
    'KYC tier of a customer an agent registered (the operator saw the ID; no device bound), whatever the identity ' +
      'path.',
    'basic',
    text,
  ),
};

export interface AgentTierConfig {
  readonly ONBOARDING_TIER_AGENT: string;
}
