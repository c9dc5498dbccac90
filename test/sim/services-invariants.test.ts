/**
 * The services invariants are not vacuous: each fails on a planted fault. pg's 2008 mutant
 * switch (a chunk that fills its frame and has an empty last piece is marked "more follows")
 * breaks checkpoint sync in the seed scenario; planted corruptions of one replica, of an
 * activated database and of every replica alike trip the three ckpt checks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeId } from '../../src/core/io.js';
import type { CkptDatabase } from '../../src/services/ckpt/database.js';
import { runSimulation, type SimRunResult } from '../../src/sim/run.js';
import type { PlantedFault } from '../../src/sim/services/ckpt-invariants.js';
import { ckptLoad } from '../../src/sim/services/loads.js';
import { FRAME_FILL_FRAME_SIZE, FRAME_FILL_LOAD, frameFillRun } from '../../src/sim/services/scenarios.js';
import { servicesCoreFactory } from '../../src/sim/services/services-core.js';

const SERVICE_INVARIANTS = [
  'sync-liveness',
  'ckpt-replicas-identical',
  'ckpt-activate-partial',
  'ckpt-ack-lost',
];

/** Four nodes under the ckpt load; node 4 restarts now and then, so rounds merge real data. */
function planted(plant: PlantedFault, seed = 5): SimRunResult {
  return runSimulation({
    seed,
    nodes: 4,
    durationMs: 3000,
    recorderSlots: 256,
    checkRings: false,
    core: servicesCoreFactory({ load: ckptLoad({ plant }) }),
    setup(world) {
      for (const at of [800, 1500, 2200]) {
        world.at(at, () => world.stopNode(4));
        world.at(at + 150, () => world.startNode(4));
      }
    },
  });
}

/** The first section with data of a checkpoint with sections, or undefined. */
function someSection(db: CkptDatabase, namePrefix = '') {
  for (const c of [...db.byId.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    if (!c.name.startsWith(namePrefix)) continue;
    for (const [key, s] of [...c.sections.entries()].sort()) if (s.data.length > 0) return { c, key, s };
  }
  return undefined;
}

test('the 2008 pg mutant breaks checkpoint sync in the seed scenario, and the services invariants say so', () => {
  const load = ckptLoad(FRAME_FILL_LOAD);
  const good = runSimulation({
    ...frameFillRun(1, servicesCoreFactory({ load, pgFrameSize: FRAME_FILL_FRAME_SIZE })),
    recorderSlots: 256,
    checkRings: false,
  });
  assert.equal(good.violation, undefined, JSON.stringify(good.violation));
  const mutant = runSimulation({
    ...frameFillRun(
      1,
      servicesCoreFactory({
        load: ckptLoad(FRAME_FILL_LOAD),
        pgFrameSize: FRAME_FILL_FRAME_SIZE,
        pgFaults: { moreFollowsByPiecePosition: true },
      }),
    ),
    recorderSlots: 256,
    checkRings: false,
  });
  assert.ok(mutant.violation, 'the mutant was not caught');
  assert.ok(SERVICE_INVARIANTS.includes(mutant.violation.invariant), JSON.stringify(mutant.violation));
});

test("ckpt-activate-partial: a section missing from one member's activated database", () => {
  let done = false;
  const r = planted((node: NodeId, when, db) => {
    if (done || when !== 'activated' || node !== 2) return;
    const hit = someSection(db);
    if (!hit) return;
    hit.c.sections.delete(hit.key);
    hit.c.used -= hit.s.data.length;
    done = true;
  });
  assert.ok(done, 'nothing to plant');
  assert.equal(r.violation?.invariant, 'ckpt-activate-partial', JSON.stringify(r.violation));
  assert.equal(r.violation?.node, 2);
});

test('ckpt-activate-partial: an activated database that is not consistent in itself', () => {
  let done = false;
  const r = planted((node, when, db) => {
    if (done || when !== 'activated' || node !== 3) return;
    const hit = someSection(db);
    if (!hit) return;
    hit.c.used += 1;
    done = true;
  });
  assert.ok(done, 'nothing to plant');
  assert.equal(r.violation?.invariant, 'ckpt-activate-partial', JSON.stringify(r.violation));
  assert.match(r.violation!.detail, /inconsistent/);
});

test('ckpt-replicas-identical: one replica differs by one byte after a round', () => {
  let done = false;
  const r = planted((node, when, db) => {
    if (done || when !== 'completed' || node !== 3) return;
    const hit = someSection(db);
    if (!hit) return;
    hit.s.data[0] = hit.s.data[0]! ^ 0x01;
    done = true;
  });
  assert.ok(done, 'nothing to plant');
  assert.equal(r.violation?.invariant, 'ckpt-replicas-identical', JSON.stringify(r.violation));
});

test('ckpt-ack-lost: every replica alike loses an acknowledged write', () => {
  // The same change on every replica: the replicas agree, only the owner's acknowledgement tells.
  const r = planted((_node, when, db) => {
    if (when !== 'completed') return;
    for (const c of db.byId.values())
      if (c.name.startsWith('p'))
        for (const s of c.sections.values()) if (s.data.length > 0) s.data[0] = 0xee;
  });
  assert.equal(r.violation?.invariant, 'ckpt-ack-lost', JSON.stringify(r.violation));
});
