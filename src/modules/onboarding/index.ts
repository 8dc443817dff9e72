/** Onboarding: (say in one line what the module does). Other modules reach it only through this file. */
import { defineModule } from '../../platform/modules.ts';
import { onboardingErrors } from './onboarding.errors.ts';
import { onboardingTopics } from './onboarding.events.ts';
import { onboardingRoutes } from './onboarding.routes.ts';
import { OnboardingService } from './onboarding.service.ts';
import { onboardingItems } from './onboarding.tables.ts';

export { onboardingItemCreated } from './onboarding.events.ts';
export { OnboardingService } from './onboarding.service.ts';

export const onboardingModule = defineModule({
  name: 'onboarding',
  description: 'Onboarding: (one line for docs/architecture.md)',
  dependsOn: [],
  errors: onboardingErrors,
  tables: { onboardingItems },
  permissions: [
    { code: 'onboarding:read', description: 'Read onboarding items' },
    { code: 'onboarding:manage', description: 'Create onboarding items' },
  ],
  publishes: onboardingTopics,
  create: ({ deps }) => new OnboardingService(deps),
  routes: (service) => onboardingRoutes(service),
});
