/** Regenerates `.env.example` from the configuration schema: `node scripts/write-env-example.ts`. */
import { writeFileSync } from 'node:fs';
import { variables } from '../src/config.ts';

const sections: [string, string][] = [
  ['LOCAL_HOST', 'Server'],
  ['DATABASE_URL', 'Database (unset: embedded PGlite in DATA_DIR)'],
  ['REDIS_URL', 'Redis (unset: in-process store, single node only)'],
  ['WORKER_IN_PROCESS', 'Background jobs'],
  ['ACCESS_TOKEN_EXPIRE_MINUTES', 'Tokens'],
  ['MASTER_KEY', 'Secrets (PRODUCTION=true refuses the development defaults)'],
  ['ADMIN_EMAIL', 'Identity'],
  ['SMTP_SERVER', 'Email, SMS and push'],
  ['SAML_CONFIG_FILE', 'Federation'],
];

const lines = [
  '# CodeForge Suite configuration. Copy to .env and edit; real environment variables win over .env.',
  '# Every variable is optional in development; `npm run cli -- config-check` validates and prints them.',
];
for (const [name, spec] of Object.entries(variables)) {
  const section = sections.find(([first]) => first === name);
  if (section) lines.push('', `# --- ${section[1]} ---`);
  lines.push(`# ${spec.doc}${spec.secret ? ' (secret)' : ''}`);
  const fallback = spec.fallback;
  if (spec.secret && fallback !== undefined)
    lines.push(`# ${name}=<development default; set your own in production>`);
  else if (fallback === undefined) lines.push(`# ${name}=`);
  else lines.push(`${name}=${fallback}`);
}
writeFileSync('.env.example', `${lines.join('\n')}\n`);
