/** 5. ussd: not measured while there is no USSD module; the row says so instead of showing a made-up figure. */
import { HEADER, row } from '../lib/format.ts';
import { section } from '../lib/report.ts';

export function ussdScenario(): void {
  section(ussdSection());
}

function ussdSection(): string {
  return [
    '## 5. ussd — 5-step USSD session',
    '',
    HEADER,
    row([
      'ussd session (5 steps, balance check)',
      '—',
      '—',
      '—',
      '—',
      '—',
      'p99 < 50 ms per step',
      '—',
      '—',
      '—',
      '—',
      '—',
    ]),
    '',
    '**Not measured: there is no USSD module in the codebase** (no USSD gateway route or session handling; USSD is listed under "Planned work" in docs/architecture.md). Nothing was faked; this row stays empty until the module exists.',
  ].join('\n');
}
