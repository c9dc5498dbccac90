/**
 * The `plock-churn` scenario: the plock load on 3..7 nodes (the count from the seed, as a
 * sweep has it), with the ownership mode from the seed (odd: on), every random fault kind,
 * and membership churn on top: every few hundred ms a member restarts or leaves and comes
 * back, or a new node joins. Each join makes the plock keeper store the lock state into the
 * gfsplock checkpoints (one section per resource, most of them empty: no lock held, or a
 * resource another node owns) and the next round's checkpoint sync carries those sections to
 * the joiners: the path on which the 2008 fault bit (a sync message ending exactly at a frame
 * boundary with an empty last piece).
 *
 * `totem sim --scenario plock-churn --seed N` replays one seed; the test suite sweeps
 * thousands (test/sim-plock/).
 */
import type { PackerFaults } from '../../pg/internal-faults.js';
import { ALL_FAULTS, MAX_SIM_NODES } from '../faults.js';
import type { SimRunOptions } from '../run.js';
import type { Scenario } from '../scenarios.js';
import { nodesForSeed } from '../sweep.js';
import { plockLoad } from './loads.js';
import { servicesCoreFactory } from './services-core.js';

export const PLOCK_CHURN = 'plock-churn';
/** Node counts of the scenario's seeds. */
export const PLOCK_CHURN_NODES: readonly [number, number] = [3, 7];
export const PLOCK_CHURN_DURATION_MS = 1500;
/**
 * pg's frame size in the scenario (the daemon's is the ordering layer's payload, ~1.3 KB): small
 * frames put many more frame boundaries into each checkpoint sync, so the boundaries meet the
 * ends of sync messages (most of them empty sections) much more often, as in the ckpt
 * frame-fill scenario.
 */
export const PLOCK_CHURN_FRAME_SIZE = 300;

export interface PlockChurnOptions {
  /** Test-only: pg's fault switches (the 2008 mutant). */
  readonly pgFaults?: PackerFaults;
  /** Overrides the seed's ownership mode. */
  readonly ownership?: boolean;
}

export function plockOwnershipOfSeed(seed: number): boolean {
  return (seed & 1) === 1;
}

export function plockChurnRun(seed: number, opts: PlockChurnOptions = {}): SimRunOptions {
  const ownership = opts.ownership ?? plockOwnershipOfSeed(seed);
  const core = servicesCoreFactory({
    load: plockLoad({ ownership }),
    pgFrameSize: PLOCK_CHURN_FRAME_SIZE,
    ...(opts.pgFaults ? { pgFaults: opts.pgFaults } : {}),
  });
  const durationMs = PLOCK_CHURN_DURATION_MS;
  return {
    seed,
    nodes: nodesForSeed(seed, PLOCK_CHURN_NODES),
    core,
    durationMs,
    faults: ALL_FAULTS,
    workloadTailMs: 200,
    recorderSlots: 4096,
    setup(world) {
      const p = world.faultPrng.fork();
      // Two joins for sure, late enough that many resources exist: the first makes the keeper
      // store the lock state (sections mostly empty), the second's round syncs that checkpoint
      // to the joiner. (A new node when there is room, else a member restarts.)
      for (const at of [0.55 * durationMs, 0.85 * durationMs])
        world.at(at, () => {
          const known = world.knownNodes();
          const live = world.liveNodes();
          if (known.length < MAX_SIM_NODES) {
            world.counts.joins++;
            world.startNode(known[known.length - 1]! + 1);
          } else if (live.length > 2) {
            const id = live[live.length - 1]!;
            world.stopNode(id);
            world.after(50, () => {
              if (!world.isUp(id)) world.startNode(id);
            });
          }
        });
      for (let at = 300 + 200 * p.float(); at < durationMs - 200; at += 250 + 250 * p.float()) {
        world.at(at, () => {
          const live = world.liveNodes();
          const known = world.knownNodes();
          if ((live.length <= 2 || p.chance(0.3)) && known.length < MAX_SIM_NODES) {
            world.counts.joins++;
            world.startNode(known[known.length - 1]! + 1);
            return;
          }
          if (live.length <= 2) return;
          const id = p.pick(live);
          world.stopNode(id, p.chance(0.3));
          world.after(100 + 300 * p.float(), () => {
            if (!world.isUp(id)) world.startNode(id);
          });
        });
      }
    },
  };
}

export const plockChurn: Scenario = {
  name: PLOCK_CHURN,
  summary:
    'plock clients on 3..7 nodes (ownership on for odd seeds), every fault, members restarting and joining: lock state stored in gfsplock checkpoints with empty sections and synced to joiners',
  build: (seed) => plockChurnRun(seed),
};
