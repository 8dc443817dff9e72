/** Regenerates `.env.example` from the configuration schema: `node scripts/write-env-example.ts`. */
import { writeFileSync } from 'node:fs';
import { variables } from '../src/config.ts';
import { orderedModules } from '../src/modules.ts';
import type { ConfigSpec } from '../src/platform/config-spec.ts';

const sections: [string, string][] = [
  ['LOCAL_HOST', 'Server'],
  ['DATABASE_URL', 'Database (unset: embedded PGlite in DATA_DIR)'],
  ['REDIS_URL', 'Redis (unset: in-process store, single node only)'],
  ['WORKER_IN_PROCESS', 'Background jobs'],
  ['ACCESS_TOKEN_EXPIRE_MINUTES', 'Tokens'],
  ['MASTER_KEY', 'Secrets (PRODUCTION=true refuses the development defaults)'],
  ['ADMIN_EMAIL', 'Identity'],
  ['FINERACT_BASE_URL', 'Core banking (Fineract: banking and onboarding)'],
  ['SAML_CONFIG_FILE', 'Federation'],
];

const lines = [
  '# CodeForge Suite configuration. Copy to .env and edit; real environment variables win over .env.',
  '# Every variable is optional in development; `npm run cli -- config-check` validates and prints them.',
];
function document(spec: ConfigSpec): void {
  for (const [name, variable] of Object.entries(spec)) {
    const section = sections.find(([first]) => first === name);
    if (section) lines.push('', `# --- ${section[1]} ---`);
    lines.push(`# ${variable.doc}${variable.secret ? ' (secret)' : ''}`);
    const fallback = variable.fallback;
    if (variable.secret && fallback !== undefined)
      lines.push(`# ${name}=<development default; set your own in production>`);
    else if (fallback === undefined) lines.push(`# ${name}=`);
    else lines.push(`${name}=${fallback}`);
  }
}
document(variables as unknown as ConfigSpec);
// Each module's own variables (its `config`), after the platform's.
for (const module of orderedModules()) {
  if (!module.config || Object.keys(module.config).length === 0) continue;
  lines.push('', `# --- Module ${module.name} ---`);
  document(module.config);
}
writeFileSync('.env.example', `${lines.join('\n')}\n`);
