/**
 * Builds the scoring area from the modules it reads (wallets, kyc) and the credit bureau when one is configured;
 * index.ts calls these in `create`, `routes` and `health` and connects scoring to the application pipeline.
 */
import type { HealthCheck, ModuleContext } from '../../platform/modules.ts';
import { kycModule } from '../kyc/index.ts';
import { walletsModule } from '../wallets/index.ts';
import { bureauFromConfig, type ScoringConfigValues, ScoringService } from './loans.scoring.ts';

export { scoringConfig } from './loans.scoring.ts';

export function buildScoring(ctx: ModuleContext, config: ScoringConfigValues): ScoringService {
  return new ScoringService({
    deps: ctx.deps,
    wallets: ctx.use(walletsModule),
    kyc: ctx.use(kycModule).kyc,
    bureau: bureauFromConfig(config, ctx.deps.config.PRODUCTION),
  });
}

/**
 * The bureau's readiness check (no paid inquiry: an HTTP answer is enough). Not critical: with the bureau down the
 * node still serves everything else and scoring refers instead of deciding, so `/health/ready` says `degraded`
 * rather than taking every node out of the load balancer.
 */
export function scoringHealth(scoring: ScoringService): Record<string, HealthCheck> {
  return {
    'loans.bureau': {
      critical: false,
      probe: async () => (scoring.bureauConfigured ? scoring.pingBureau() : 'not_configured'),
    },
  };
}
