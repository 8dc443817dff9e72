/** The Didit fake's verification page: what a person sees at the session's `url`, with one button per outcome. */
import type { FakeDiditSession } from './didit.decision.ts';

const OUTCOMES = ['Approved', 'Declined', 'In Review', 'Abandoned'] as const;

function html(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function verificationPage(session: FakeDiditSession): string {
  const expected = session.expected_details ?? {};
  const rows = Object.entries(expected)
    .map(([key, value]) => `<tr><th>${html(key)}</th><td>${html(String(value))}</td></tr>`)
    .join('');
  const buttons = OUTCOMES.map(
    (status) =>
      `<form method="post" action="/session/${html(session.session_token)}/complete?status=${encodeURIComponent(status)}">` +
      `<button type="submit">${html(status)}</button></form>`,
  ).join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Fake Didit verification</title></head>
<body><h1>Fake Didit verification</h1>
<p>Session ${html(session.session_id)} (vendor_data ${html(session.vendor_data)}), status <b>${html(session.status)}</b>.</p>
<table>${rows}</table>
<p>Pick the outcome: the fake sends the signed webhook (when it knows the webhook URL) and returns you to the callback.</p>
${buttons}</body></html>`;
}
