/** Reading a sample out of /metrics' text (the bench and the bank test read the group commit's counters so). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { metricValue } from './metrics.ts';

test('metricValue finds a sample by its whole name, and NaN when it is not there', () => {
  const exposition = [
    '# HELP payment_commit_calls_total Payment commit calls made by the group commit',
    '# TYPE payment_commit_calls_total counter',
    'payment_commit_calls_total 12',
    'payment_commit_calls_total_extra 99',
    'payment_commit_payments_total 30.5',
    'db_pool_connections{state="idle"} 3',
  ].join('\n');
  assert.equal(metricValue(exposition, 'payment_commit_calls_total'), 12);
  assert.equal(metricValue(exposition, 'payment_commit_payments_total'), 30.5);
  assert.ok(Number.isNaN(metricValue(exposition, 'payment_commit')), 'a prefix of a name is not the name');
  assert.ok(Number.isNaN(metricValue(exposition, 'idempotency_claim_calls_total')));
});
