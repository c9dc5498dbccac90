/**
 * Named scenarios of the `services` core (always that core, with the ckpt load; `--core` is
 * ignored). They run like any seed: `totem sim --scenario NAME --seed N`.
 *
 * - sync-{join,fail}-at-{lists,process,barrier,activate}: whenever a sync round reaches the
 *   step on some node (lists: service lists being collected; process: the checkpoint service
 *   sending its database; barrier: a node done and waiting for the others; activate: right
 *   after the first member activated, before the others did), a node joins (a new id, or a
 *   stopped one restarts) or a member fails (crash, sometimes a graceful leave, back later).
 * - ckpt-sync-frame-fill: the 2008 seed's shape in checkpoint sync: sections whose sync
 *   messages fill pg frames exactly, many empty (their last piece is empty), while members
 *   join and leave.
 */
import type { NodeId } from '../../core/io.js';
import { MAX_SIM_NODES, parseFaults } from '../faults.js';
import type { SimRunOptions } from '../run.js';
import { addFilter, type Scenario } from '../scenarios.js';
import type { World } from '../world.js';
import { ckptLoad } from './loads.js';
import { plockChurn } from './plock-scenario.js';
import type { ServicesChecker } from './services-checker.js';
import { servicesCoreFactory } from './services-core.js';

export type SyncStep = 'lists' | 'process' | 'barrier' | 'activate';
export const SYNC_STEPS: readonly SyncStep[] = ['lists', 'process', 'barrier', 'activate'];

function completedRounds(world: World): number {
  return (world.checker as ServicesChecker).rounds.completed;
}

/** A node in the step, or undefined. For activate: a member of a round some member just activated. */
function nodeAt(world: World, step: SyncStep, lastCompleted: { n: number }): NodeId | undefined {
  if (step === 'activate') {
    const done = completedRounds(world);
    if (done === lastCompleted.n) return undefined;
    lastCompleted.n = done;
    const waiting = world.liveNodes().filter((n) => world.coreOf(n)?.phase().startsWith('SYNC:'));
    return waiting[0];
  }
  const want = `SYNC:${step}`;
  return world.liveNodes().find((n) => world.coreOf(n)?.phase() === want);
}

function count(world: World, what: string): void {
  world.scenarioCounts[what] = (world.scenarioCounts[what] ?? 0) + 1;
}

function syncStepScenario(action: 'join' | 'fail', step: SyncStep): Scenario {
  return {
    name: `sync-${action}-at-${step}`,
    summary: `${action === 'join' ? 'a node joins' : 'a member fails'} whenever a sync round is at ${step} (services core, ckpt load)`,
    build(seed) {
      const core = servicesCoreFactory({ load: ckptLoad() });
      const t = core.timing.tokenMs;
      const durationMs = 14 * t;
      return {
        seed,
        nodes: 4,
        core,
        durationMs,
        faults: parseFaults('loss=0.01'),
        setup(world) {
          const p = world.faultPrng.fork();
          // Rounds come with configuration changes: make one every few token timeouts (a node
          // restarts, or a new one joins) so the action below has rounds to aim at.
          for (let at = 3 * t; at < durationMs - 3 * t; at += 2.5 * t) {
            world.at(at, () => {
              const live = world.liveNodes();
              const known = world.knownNodes();
              if (p.chance(0.5) && known.length < MAX_SIM_NODES) {
                world.counts.joins++;
                world.startNode(known[known.length - 1]! + 1);
              } else if (live.length > 2) {
                const id = live[live.length - 1]!;
                world.stopNode(id);
                world.after(0.6 * t, () => {
                  if (!world.isUp(id)) world.startNode(id);
                });
              }
            });
          }
          let quietUntil = 3 * t;
          const lastCompleted = { n: 0 };
          addFilter(world, (_from, _to, _packet, now) => {
            if (now < quietUntil || now >= durationMs - 2 * t) return 'pass';
            const at = nodeAt(world, step, lastCompleted);
            if (at === undefined) return 'pass';
            quietUntil = now + t * (0.8 + p.float());
            count(world, `at-${step}`);
            if (action === 'join') {
              const down = world.knownNodes().filter((n) => !world.isUp(n));
              const known = world.knownNodes();
              const id = down.length > 0 && p.chance(0.5) ? p.pick(down) : known[known.length - 1]! + 1;
              if (id > MAX_SIM_NODES) return 'pass';
              world.after(0, () => {
                if (!world.isUp(id)) {
                  world.counts.joins++;
                  world.startNode(id);
                  count(world, 'acted');
                }
              });
            } else {
              const live = world.liveNodes();
              if (live.length <= 2) return 'pass';
              // The node in the step half of the time, another member otherwise.
              const victim = p.chance(0.5) ? at : p.pick(live);
              const graceful = p.chance(0.25);
              world.after(0, () => {
                if (!world.isUp(victim)) return;
                world.stopNode(victim, graceful);
                count(world, 'acted');
                world.after(t * (0.5 + 2 * p.float()), () => {
                  if (!world.isUp(victim)) world.startNode(victim);
                });
              });
            }
            return 'pass';
          });
        },
      } satisfies SimRunOptions;
    },
  };
}

/** Section sizes of the seed scenario: most sync SECTION messages fill a frame, many sections empty. */
/** Small frames: sync streams realign to frame starts often, so exact fits come often. */
export const FRAME_FILL_FRAME_SIZE = 300;

export const FRAME_FILL_LOAD = {
  sizes: { empty: 0.45, tiny: 0.03, frameFill: 0.5, large: 0.02 },
  frameIds: true,
  mixer: false,
  privateCheckpoints: 3,
  privateSections: 8,
  stepMs: 10,
} as const;

export const ckptSyncFrameFill: Scenario = {
  name: 'ckpt-sync-frame-fill',
  summary:
    'checkpoint sync messages that fill pg frames exactly, empty sections (empty last pieces), while members join and leave',
  build(seed) {
    const core = servicesCoreFactory({ load: ckptLoad(FRAME_FILL_LOAD), pgFrameSize: FRAME_FILL_FRAME_SIZE });
    return frameFillRun(seed, core);
  },
};

/** The seed scenario's run with a given core (tests run it with pg's 2008 mutant switched on). */
export function frameFillRun(seed: number, core: ReturnType<typeof servicesCoreFactory>): SimRunOptions {
  const durationMs = 3000;
  return {
    seed,
    nodes: 5,
    core,
    durationMs,
    faults: parseFaults('loss=0.01,reorder'),
    setup(world) {
      const prng = world.faultPrng;
      for (let at = 400; at < durationMs - 400; at += 250 + prng.float() * 200) {
        world.at(at, () => {
          const live = world.liveNodes();
          if (live.length <= 3 || prng.chance(0.2)) {
            const known = world.knownNodes();
            if (known.length < MAX_SIM_NODES) {
              world.counts.joins++;
              world.startNode(known[known.length - 1]! + 1);
            }
            return;
          }
          const id = prng.pick(live);
          world.stopNode(id, prng.chance(0.5));
          world.after(150 + prng.float() * 300, () => world.startNode(id));
        });
      }
    },
  };
}

export const SERVICE_SCENARIOS: readonly Scenario[] = [
  ...SYNC_STEPS.flatMap((s) => [syncStepScenario('join', s), syncStepScenario('fail', s)]),
  ckptSyncFrameFill,
  plockChurn,
];
