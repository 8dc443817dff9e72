/**
 * 2. hot-account: transfers with the product's fee and excise duty (every one credits the same house accounts) and
 * payments all to one merchant, against the same transfers on a fee-free product, interleaved in rounds.
 */
import { randomInt } from 'node:crypto';
import { cpuLines, errorText, f0, f1, f2, HEADER, log, pick, row, verdict } from '../lib/format.ts';
import { type BuiltRequest, combine, type LoadResult } from '../lib/load.ts';
import { quick, S } from '../lib/options.ts';
import { raw, section } from '../lib/report.ts';
import { idempotencyKey } from '../lib/requests.ts';
import type { Runner } from '../lib/runner.ts';
import { BENCH_PIN, setProduct } from '../lib/seed.ts';

export async function hotScenario(bench: Runner): Promise<void> {
  const { admin, payers, transferRequest } = bench;
  const { pool, products, merchant } = bench.primary;
  const c = S.hotConnections;
  // The three variants run interleaved (A B C, A B C, …) so a drift of the shared machine hits all of them alike.
  const rounds = quick ? 1 : 3;
  const slice = Math.max(3, Math.round(S.seconds / rounds));
  const merchantRequest = (): BuiltRequest => {
    const payer = pick(payers);
    return {
      method: 'POST',
      path: '/api/v1/wallet/transaction/merchant',
      headers: {
        authorization: `Bearer ${payer.token}`,
        'idempotency-key': idempotencyKey(),
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        merchant_id: merchant.id,
        amount: 100 + randomInt(900),
        currency: 'KES',
        pin: BENCH_PIN,
      }),
    };
  };
  const variants = [
    { key: 'random', product: products.feeFree, next: transferRequest, slices: [] as LoadResult[] },
    { key: 'fee', product: products.standard, next: transferRequest, slices: [] as LoadResult[] },
    { key: 'merchant', product: products.standard, next: merchantRequest, slices: [] as LoadResult[] },
  ];
  for (let round = 0; round < rounds; round += 1) {
    for (const variant of variants) {
      await admin.resilient(() => setProduct(pool, variant.product));
      variant.slices.push(await bench.measure(variant.next, c, slice, round === 0 ? S.warmup : 2));
    }
    log(
      `hot round ${round + 1}/${rounds}: ${variants.map((variant) => `${variant.key} ${f0(variant.slices[round]!.rps)}`).join(', ')} req/s`,
    );
  }
  await admin.resilient(() => setProduct(pool, products.standard));
  const [random, fee, merchantResult] = variants.map((variant) => combine(variant.slices)) as [
    LoadResult,
    LoadResult,
    LoadResult,
  ];
  const verification = await bench.verify();
  const perRound = (index: number) => variants[index]!.slices.map((result) => f0(result.rps)).join(' / ');
  raw.hot = { random, fee, merchant: merchantResult, rounds };
  section(
    hotSection(
      c,
      [
        { label: 'random wallets, fee-free product (reference)', result: random, rounds: perRound(0) },
        {
          label: 'random wallets, fee + excise duty to `fee_income:KES` / `tax_payable:KES`',
          result: fee,
          rounds: perRound(1),
          target: 0.9,
        },
        {
          label: 'all payments to one merchant (QR/merchant route)',
          result: merchantResult,
          rounds: perRound(2),
        },
      ],
      { rounds, slice, verification },
    ),
  );
}

function hotSection(
  c: number,
  variants: { label: string; result: LoadResult; rounds: string; target?: number }[],
  run: { rounds: number; slice: number; verification: string },
): string {
  const reference = variants[0]!.result.rps;
  const lines = [
    '## 2. hot-account — fees to one house account, payments to one merchant',
    '',
    `${c} connections, 1 worker; the three variants run interleaved, ${run.rounds} round(s) of ${run.slice} s each (per-round req/s below the table), so a drift of the shared machine hits them alike. The reference is the same transfer with every wallet on a fee-free product (principal leg only); the fee variant adds the product's fee and excise-duty legs to \`fee_income:KES\` and \`tax_payable:KES\` (deferred house accounts) on every transfer; the merchant variant sends every payment to one merchant wallet (\`/wallet/transaction/merchant\`, 1% discount fee; the merchant's wallet row and ledger account are locked by every payment). ledger-verify after the last round.`,
    '',
    HEADER,
  ];
  for (const variant of variants) {
    const ratio = variant.result.rps / reference;
    lines.push(
      row([
        variant.label,
        c,
        1,
        f0(variant.result.rps),
        variant === variants[0] ? '—' : f0(reference),
        variant === variants[0] ? '1.00' : f2(ratio),
        variant.target
          ? `≥${variant.target.toFixed(2)}× random: ${verdict(ratio >= variant.target)}`
          : '(reported)',
        f1(variant.result.p50),
        f1(variant.result.p90),
        f1(variant.result.p99),
        errorText(variant.result),
        variant === variants[variants.length - 1] ? run.verification : '(after the last round)',
      ]),
    );
  }
  lines.push(
    '',
    `Per round (req/s): ${variants.map((variant, index) => `${['random, no fee', 'fee + duty', 'one merchant'][index]}: ${variant.rounds}`).join('; ')}.`,
    '',
    cpuLines(
      variants.map((variant) => ({
        label: variant.label.split(' (')[0]!,
        cpu: variant.result.cpu,
        ok: variant.result.ok,
      })),
    ),
  );
  return lines.join('\n');
}
