/** Customers: profiles, contacts, masked and encrypted PII, search, data-protection rights. */
import type { FastifyPluginAsync } from 'fastify';
import type { Dependencies } from '../../platform/dependencies.ts';
import { customerRoutes } from './customers.routes.ts';
import { CustomersService } from './customers.service.ts';

export { CustomersService, normalisePhone } from './customers.service.ts';

export function customersModule(deps: Dependencies): FastifyPluginAsync {
  return async (app) => {
    await app.register(customerRoutes(new CustomersService(deps)));
  };
}
