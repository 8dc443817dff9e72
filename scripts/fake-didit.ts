/**
 * Runs the Didit v3 fake on its own for local development: `npm run fake:didit`. It prints the variables to give the
 * API and how to approve a session. Environment: FAKE_DIDIT_PORT (default 8790), DIDIT_API_KEY, DIDIT_WORKFLOW_ID,
 * DIDIT_WEBHOOK_SECRET (the same values the API is given) and FAKE_DIDIT_WEBHOOK_URL (default: the local API's
 * webhook route), where each status picked on the verification page is delivered, signed.
 */
import { FakeDidit } from '../test/fakes/didit.ts';

const port = Number(process.env.FAKE_DIDIT_PORT ?? '8790');
const apiBase = (
  process.env.PUBLIC_BASE_URL ?? `http://127.0.0.1:${process.env.LOCAL_PORT ?? '8000'}`
).replace(/\/$/, '');
const fake = new FakeDidit({
  apiKey: process.env.DIDIT_API_KEY || undefined,
  workflowId: process.env.DIDIT_WORKFLOW_ID || undefined,
  webhookSecret: process.env.DIDIT_WEBHOOK_SECRET || undefined,
  webhookUrl: process.env.FAKE_DIDIT_WEBHOOK_URL ?? `${apiBase}/api/v1/mobile/register/didit/webhook`,
  autoDeliver: true,
});
const { baseUrl, close } = await fake.start(port);

process.stdout.write(
  [
    `Fake Didit v3 listening at ${baseUrl}`,
    '',
    'Give the API these variables (e.g. in .env):',
    `  DIDIT_BASE_URL=${baseUrl}`,
    `  DIDIT_API_KEY=${fake.apiKey}`,
    `  DIDIT_WORKFLOW_ID=${fake.workflowId}`,
    `  DIDIT_WEBHOOK_SECRET=${fake.webhookSecret}`,
    '',
    `Webhooks go to ${fake.webhookUrl} (FAKE_DIDIT_WEBHOOK_URL), signed with V2, V1 and Simple.`,
    '',
    'To approve a session: open the verification_url the identity step answered and press "Approved"',
    '(or Declined, In Review, Abandoned); the browser then returns to the callback. Without a browser:',
    `  curl -s ${baseUrl}/__fake/sessions            # the sessions and their ids`,
    `  curl -s -X POST ${baseUrl}/__fake/sessions/<session_id>/status \\`,
    `       -H 'content-type: application/json' -d '{"status":"Approved"}'`,
    'A document that does not match the declared details (the registration then goes to manual review):',
    `  ... -d '{"status":"Approved","person":{"last_name":"Odhiambo"}}'`,
    '',
  ].join('\n'),
);

for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    void close().then(() => process.exit(0));
  });
