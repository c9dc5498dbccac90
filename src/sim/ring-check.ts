/**
 * The end-of-run check over the flight-recorder rings: what `totem fplay check` does on a
 * daemon's rings, run on every simulated process's ring. Any finding is a violation, so the
 * recorder contract events (srp.mcast_tx, srp.deliver, srp.conf, pg.send, pg.deliver) are
 * checked against the same deliveries the live checker judged.
 */
import { type CheckReport, checkRings } from '../recorder/check.js';
import { readRing } from '../recorder/reader.js';
import type { Violation } from './checker.js';
import type { World } from './world.js';

/**
 * Marks the rings of processes that ran from the start to the end of the run without a stop
 * as closed cleanly (check.ts then requires members that both closed in one ring to have
 * delivered each other's messages), and checks every ring. Call only at a quiescent end.
 */
export function checkWorldRings(world: World): { report: CheckReport; violation: Violation | undefined } {
  const live = new Set(world.liveNodes());
  const images = world.rings.map(({ node, incarnation, recorder }) => {
    const latest = world.recorders.get(node) === recorder;
    if (latest && live.has(node)) recorder.markClosed('sim end');
    return readRing(recorder.snapshot(), `node ${node}#${incarnation}`);
  });
  const report = checkRings(images);
  const first = report.findings[0];
  const violation: Violation | undefined = first
    ? {
        invariant: `rings-${first.kind}`,
        node: undefined,
        time: world.now,
        detail: `${report.findings.length} fplay-check finding(s); first: ${first.message} [${first.witnesses.join('; ')}]`,
      }
    : undefined;
  return { report, violation };
}
