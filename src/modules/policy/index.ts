/** Access policies (enforced on every staff request) and transaction-control limits. */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { Dependencies } from '../../platform/dependencies.ts';
import { policyRoutes } from './policy.routes.ts';
import { PolicyService, policyErrors } from './policy.service.ts';

export { PolicyService, type TransactionQuestion } from './policy.service.ts';

const CHANNELS = new Set(['web', 'mobile', 'ussd', 'agent', 'api']);

export function createPolicy(deps: Dependencies): PolicyService {
  return new PolicyService(deps.database.db);
}

/** Register before any route: staff requests must satisfy every access policy bound to their roles. */
export function registerPolicyGuard(app: FastifyInstance, policy: PolicyService): void {
  // preValidation runs after the access guard (preParsing), so the principal is known.
  app.addHook('preValidation', async (request) => {
    const principal = request.principal;
    if (principal?.type !== 'user') return;
    const header = request.headers['x-channel'];
    const channel = typeof header === 'string' && CHANNELS.has(header) ? header : 'web';
    const verdict = await policy.evaluateAccess({ roles: principal.roles, ip: request.ip, channel });
    if (!verdict.allowed) throw policyErrors.denied(verdict.reasons);
  });
}

export function policyModule(policy: PolicyService): FastifyPluginAsync {
  return async (app) => {
    await app.register(policyRoutes(policy));
  };
}
