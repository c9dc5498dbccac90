/**
 * Simulator speed: simulated seconds per wall second and ordered messages per wall second,
 * for a 5-node cluster under load (no faults, then every fault kind).
 *
 *   node dist/bench/sim/sim-bench.js [--json] [--core NAME] [--seconds 30]
 *
 * Figures, not pass/fail: compare them across commits on the same machine.
 */
import { CORES } from '../../src/sim/cores.js';
import { ALL_FAULTS, type FaultSpec, NO_FAULTS } from '../../src/sim/faults.js';
import { runSimulation } from '../../src/sim/run.js';

interface Figure {
  readonly name: string;
  readonly nodes: number;
  readonly simSeconds: number;
  readonly wallSeconds: number;
  /** CPU time of this process (user + system): the wall figure suffers on a busy machine. */
  readonly cpuSeconds: number;
  readonly simSecondsPerWallSecond: number;
  readonly simSecondsPerCpuSecond: number;
  readonly orderedMessages: number;
  readonly orderedPerWallSecond: number;
  readonly deliveriesPerWallSecond: number;
  readonly eventsPerWallSecond: number;
  readonly pass: boolean;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function measure(name: string, faults: FaultSpec, rate: number, seconds: number, coreName: string): Figure {
  const make = CORES.get(coreName);
  if (!make) throw new Error(`unknown core ${coreName}`);
  const nodes = 5;
  const cpu0 = process.cpuUsage();
  const r = runSimulation({
    seed: 1,
    nodes,
    core: make(),
    durationMs: seconds * 1000,
    faults,
    settleMs: 5000,
    workload: { ratePerNode: rate, maxSize: 300 },
    recorderSlots: 65536,
    // The speed of the simulation itself, with its online invariant checks; the post-run
    // replay check of the rings (what `totem fplay check` does) is analysis, measured apart.
    checkRings: false,
  });
  const wall = r.wallMs / 1000;
  const cpuUsed = process.cpuUsage(cpu0);
  const cpu = (cpuUsed.user + cpuUsed.system) / 1e6;
  const ordered = r.world.checker.orderedMessages;
  return {
    name,
    nodes,
    simSeconds: r.simMs / 1000,
    wallSeconds: wall,
    cpuSeconds: cpu,
    simSecondsPerWallSecond: r.simMs / 1000 / wall,
    simSecondsPerCpuSecond: r.simMs / 1000 / cpu,
    orderedMessages: ordered,
    orderedPerWallSecond: ordered / wall,
    deliveriesPerWallSecond: r.deliveries / wall,
    eventsPerWallSecond: r.events / wall,
    pass: r.pass,
  };
}

function main(): void {
  const json = process.argv.includes('--json');
  const coreName = arg('core') ?? [...CORES.keys()][0];
  if (coreName === undefined) throw new Error('no simulated core is available');
  const seconds = Number(arg('seconds') ?? 60);
  const figures = [
    measure('5 nodes, 10 msg/s/node, no faults', NO_FAULTS, 10, seconds, coreName),
    measure('5 nodes, 50 msg/s/node, no faults', NO_FAULTS, 50, seconds, coreName),
    measure('5 nodes, 200 msg/s/node, no faults', NO_FAULTS, 200, seconds, coreName),
    measure('5 nodes, 1000 msg/s/node, no faults', NO_FAULTS, 1000, seconds / 3, coreName),
    measure('5 nodes, 50 msg/s/node, all faults', ALL_FAULTS, 50, seconds, coreName),
  ];
  if (json) {
    process.stdout.write(`${JSON.stringify({ bench: 'sim', core: coreName, figures }, null, 2)}\n`);
    return;
  }
  for (const f of figures) {
    process.stdout.write(
      `${f.name} (${coreName}): ${f.simSecondsPerWallSecond.toFixed(1)} simulated s per wall s ` +
        `(${f.simSecondsPerCpuSecond.toFixed(1)} per CPU s), ` +
        `${f.orderedPerWallSecond.toFixed(0)} ordered msg/wall s (${f.orderedMessages} in ${f.wallSeconds.toFixed(2)} s), ` +
        `${f.deliveriesPerWallSecond.toFixed(0)} deliveries/wall s, ${f.eventsPerWallSecond.toFixed(0)} events/wall s` +
        `${f.pass ? '' : ' [run failed its checks]'}\n`,
    );
  }
}

main();
