/**
 * The mutation check of the plock sweep: with pg's 2008 fault switched on (a trailing empty
 * piece marks a message that ends exactly at its frame's end as continued; see
 * test/pg/mutant.test.ts), the plock-churn sweep must find a failing seed within its budget,
 * and the same seeds must pass with the fault off. The path is the original one: the plock
 * keeper's checkpoint store and the checkpoint sync to joiners carry sections that are mostly
 * empty (their last piece, the data, is empty), during join/leave churn.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PG_2008_MUTANT, replayCommand, runPlockSweep } from './plock-sweep-helper.js';

/** Seeds the mutant may survive before the check fails (it fell at seed 80 and earlier when written). */
const MUTANT_BUDGET_SEEDS = 300;

test('plock sweep mutation check: the 2008 pg fault fails a seed within the budget; the same seeds pass without it', (t) => {
  const on = runPlockSweep(1, MUTANT_BUDGET_SEEDS, { pgFaults: PG_2008_MUTANT, stopAtFirstFailure: true });
  assert.equal(on.failed.length, 1, `the mutant survived ${MUTANT_BUDGET_SEEDS} seeds of the plock sweep`);
  const caught = on.failed[0]!;
  t.diagnostic(
    `mutant caught at seed ${caught.seed} (${caught.nodes} nodes) after ${on.runs} seeds, ${(on.cpuMs / 1000).toFixed(1)} s CPU (${(on.wallMs / 1000).toFixed(1)} s wall): ${caught.invariant}: ${caught.detail.slice(0, 300)} [${replayCommand(caught.seed)}, with the mutant]`,
  );
  const off = runPlockSweep(1, caught.seed);
  assert.deepEqual(
    off.failed.map((f) => `${f.invariant}: ${f.detail} [${replayCommand(f.seed)}]`),
    [],
    'the same seeds fail without the mutant: the sweep, not the fault, is what failed',
  );
  t.diagnostic(`the same ${off.runs} seeds pass with the fault off (${(off.cpuMs / 1000).toFixed(1)} s CPU)`);
});
