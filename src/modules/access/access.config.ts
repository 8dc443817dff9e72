/** The access module's own environment variables (parsed with the rest at start-up; `.env.example` lists them). */
import { boolean, variable } from '../../platform/config-spec.ts';

export const accessConfig = {
  PRIVILEGED_ROLE_FOUR_EYES: variable(
    'Giving a staff user a privileged role (one holding a permission listed under "privileged" in seed/permissions.json, e.g. super_admin, admin) always needs a second staff member (maker-checker), whatever approvals.required_actions says. false: only when user.role_assign is configured.',
    'true',
    boolean,
  ),
};
