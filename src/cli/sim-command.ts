/**
 * `totem sim`: deterministic simulation runs of the ordering core.
 *
 *   totem sim --seed N --nodes K --duration 60s [--faults LIST] [--json]
 *   totem sim --scenario NAME [--seed N] [--json]      (`--scenario list` names them)
 *   totem sim sweep --seeds 1..1000 --nodes 3..7 [--faults LIST] [--duration 5s] [--json]
 *
 * Exit status: 0 every run passed, 1 an invariant was violated, 2 bad usage.
 */
import { describeViolation, resultSummary, writeFailureArtifacts, writeRings } from '../sim/artifacts.js';
import { CORES } from '../sim/cores.js';
import { ALL_FAULTS, FAULT_WORDS, type FaultSpec, formatFaults, parseFaults } from '../sim/faults.js';
import { runSimulation, type SimRunOptions, type SimRunResult } from '../sim/run.js';
import { SCENARIOS } from '../sim/scenarios.js';
import { LOADS, loadByName } from '../sim/services/loads.js';
import { SERVICE_SCENARIOS } from '../sim/services/scenarios.js';
import { SERVICES_CORE, servicesCoreFactory } from '../sim/services/services-core.js';
import type { CoreMaker } from '../sim/sim-core.js';
import { nodesForSeed, runSweep } from '../sim/sweep.js';
import type { SrpConfig } from '../srp/config.js';

export interface SimIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether stderr is a terminal (progress bar). */
  readonly errIsTty: boolean;
}

const processIo: SimIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  errIsTty: process.stderr.isTTY === true,
};

class UsageError extends Error {}

const USAGE = `usage:
  totem sim [--seed N] [--nodes K] [--duration 60s] [--faults LIST] [--settle 10s]
            [--rate MSGS_PER_S] [--core NAME] [--slots RING_SLOTS] [--out DIR] [--keep-rings DIR] [--json]
  totem sim --scenario NAME|list [--seed N] [--core NAME] [--out DIR] [--json]
  totem sim --core services [--load ckpt] ...   (any form above: the daemon's service stack under a client load)
  totem sim sweep --seeds A..B [--nodes K..L] [--duration 5s] [--faults LIST] [--keep-going] [--json]

faults: ${FAULT_WORDS.join(', ')} (comma-separated; default: all)
On failure the rings of every node (fr-<node>-sim.ring), replay.sh and result.json are written
to --out (default ./sim-fail-<seed>/); read them with 'totem fplay'. --keep-rings DIR writes every
process's ring to DIR on PASS too ('totem fplay check DIR' reads them). Cores: srp (the ordering
layer alone), srp-pg (the process-group layer on it, judged at the application level) and
services (srp, pg, sync, cpg and ckpt as the daemon builds them, under the --load's clients;
loads: ${[...LOADS.keys()].join(', ')}; checks sync liveness and the service's replicas after every round).
Every run ends with the 'totem fplay check' checks over all rings.
`;

interface Flags {
  readonly values: Map<string, string>;
  readonly switches: Set<string>;
  readonly positional: string[];
}

const VALUE_FLAGS = new Set([
  'seed',
  'seeds',
  'nodes',
  'duration',
  'faults',
  'settle',
  'rate',
  'core',
  'out',
  'scenario',
  'slots',
  'keep-rings',
  'load',
]);
const SWITCHES = new Set(['json', 'keep-going', 'help']);

function parseFlags(args: readonly string[]): Flags {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-h') {
      switches.add('help');
      continue;
    }
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
    if (SWITCHES.has(name)) {
      switches.add(name);
    } else if (VALUE_FLAGS.has(name)) {
      const v = eq < 0 ? args[++i] : a.slice(eq + 1);
      if (v === undefined) throw new UsageError(`--${name} needs a value`);
      values.set(name, v);
    } else throw new UsageError(`unknown option --${name}`);
  }
  return { values, switches, positional };
}

/** "60s", "500ms", "2m", "1500" (ms) -> ms. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new UsageError(`bad duration '${text}' (examples: 60s, 500ms, 2m)`);
  const n = Number(m[1]);
  const unit = m[2] ?? 'ms';
  return unit === 'ms' ? n : unit === 's' ? n * 1000 : n * 60_000;
}

function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function parseRate(text: string): number {
  const n = Number(text);
  if (!(n >= 0 && n <= 100_000))
    throw new UsageError('--rate must be messages per second per node, 0..100000');
  return n;
}

function parseInt32(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer in ${min}..${max}`);
  return n;
}

/** "A..B" or "A" -> [A, B]. */
function parseRange(name: string, text: string, min: number, max: number): [number, number] {
  const parts = text.split('..');
  if (parts.length > 2) throw new UsageError(`--${name} takes A..B`);
  const lo = parseInt32(name, parts[0]!, min, max);
  const hi = parts.length === 2 ? parseInt32(name, parts[1]!, min, max) : lo;
  if (hi < lo) throw new UsageError(`--${name}: ${hi} < ${lo}`);
  return [lo, hi];
}

function faultsOf(flags: Flags): FaultSpec {
  const text = flags.values.get('faults');
  if (text === undefined) return ALL_FAULTS;
  try {
    return parseFaults(text);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function coreOf(flags: Flags, cores: ReadonlyMap<string, CoreMaker>): { name: string; make: CoreMaker } {
  const name = flags.values.get('core') ?? [...cores.keys()][0];
  if (name === undefined) throw new UsageError('no ordering core is available to simulate');
  const make = cores.get(name);
  if (!make) throw new UsageError(`unknown core '${name}' (known: ${[...cores.keys()].join(', ')})`);
  const loadName = flags.values.get('load');
  if (loadName === undefined) return { name, make };
  if (name !== SERVICES_CORE) throw new UsageError(`--load needs --core ${SERVICES_CORE}`);
  const load = loadByName(loadName);
  if (!load) throw new UsageError(`unknown load '${loadName}' (known: ${[...LOADS.keys()].join(', ')})`);
  return {
    name,
    make: (overrides) =>
      servicesCoreFactory({ load: loadByName(loadName)!, srp: overrides as Partial<SrpConfig> | undefined }),
  };
}

export async function run(args: string[]): Promise<number> {
  return runSimCommand(args, processIo, CORES);
}

export function runSimCommand(
  args: readonly string[],
  io: SimIo,
  cores: ReadonlyMap<string, CoreMaker>,
): number {
  try {
    const flags = parseFlags(args);
    if (flags.switches.has('help')) {
      io.out(USAGE);
      return 0;
    }
    const [sub, ...rest] = flags.positional;
    if (rest.length > 0) throw new UsageError(`unexpected argument '${rest[0]}'`);
    if (sub === 'sweep') return sweep(flags, io, cores);
    if (sub !== undefined) throw new UsageError(`unknown sim subcommand '${sub}'`);
    if (flags.values.has('scenario')) return scenario(flags, io, cores);
    return single(flags, io, cores);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`totem sim: ${err.message}\n\n${USAGE}`);
      return 2;
    }
    throw err;
  }
}

function replayCommand(parts: Record<string, string | undefined>): string {
  const words = ['totem sim'];
  for (const [k, v] of Object.entries(parts)) if (v !== undefined) words.push(`--${k} ${v}`);
  return words.join(' ');
}

function single(flags: Flags, io: SimIo, cores: ReadonlyMap<string, CoreMaker>): number {
  const seed = parseInt32('seed', flags.values.get('seed') ?? '1', 0, 0xffffffff);
  const nodes = parseInt32('nodes', flags.values.get('nodes') ?? '5', 1, 12);
  const durationMs = parseDuration(flags.values.get('duration') ?? '60s');
  const settle = flags.values.get('settle');
  const faults = faultsOf(flags);
  const core = coreOf(flags, cores);
  const rate = flags.values.get('rate');
  const slots = flags.values.get('slots');
  const opts: SimRunOptions = {
    seed,
    nodes,
    core: core.make(),
    durationMs,
    faults,
    settleMs: settle === undefined ? undefined : parseDuration(settle),
    workload: rate === undefined ? undefined : { ratePerNode: parseRate(rate) },
    recorderSlots: slots === undefined ? 65536 : parseInt32('slots', slots, 16, 1 << 24),
  };
  const replay = replayCommand({
    seed: String(seed),
    nodes: String(nodes),
    duration: formatDuration(durationMs),
    faults: formatFaults(faults),
    settle,
    rate,
    core: flags.values.get('core'),
    load: flags.values.get('load'),
  });
  return report(runSimulation(opts), replay, flags, io);
}

function scenario(flags: Flags, io: SimIo, cores: ReadonlyMap<string, CoreMaker>): number {
  const name = flags.values.get('scenario')!;
  const all = [...SCENARIOS, ...SERVICE_SCENARIOS];
  if (name === 'list') {
    const width = Math.max(...all.map((s) => s.name.length));
    io.out(`${all.map((s) => `${s.name.padEnd(width)}  ${s.summary}`).join('\n')}\n`);
    return 0;
  }
  const sc = all.find((s) => s.name === name);
  if (!sc) throw new UsageError(`unknown scenario '${name}' (try --scenario list)`);
  const seed = parseInt32('seed', flags.values.get('seed') ?? '1', 0, 0xffffffff);
  const core = coreOf(flags, cores);
  const opts = { ...sc.build(seed, core.make), recorderSlots: 65536 };
  const replay = replayCommand({
    scenario: name,
    seed: String(seed),
    core: flags.values.get('core'),
    load: flags.values.get('load'),
  });
  return report(runSimulation(opts), replay, flags, io);
}

function report(r: SimRunResult, replay: string, flags: Flags, io: SimIo): number {
  let dir: string | undefined;
  if (!r.pass) {
    dir = flags.values.get('out') ?? `./sim-fail-${r.seed}`;
    writeFailureArtifacts(dir, r, replay);
  }
  const keep = flags.values.get('keep-rings');
  if (keep !== undefined && keep !== dir) writeRings(keep, r);
  if (flags.switches.has('json')) {
    io.out(`${JSON.stringify({ ...resultSummary(r), replay, artifacts: dir ?? null })}\n`);
    return r.pass ? 0 : 1;
  }
  const head = `${r.pass ? 'PASS' : 'FAIL'} seed ${r.seed} nodes ${r.nodes} core ${r.core} faults ${r.faults} trace ${r.traceHash}`;
  const lines = [head];
  if (!r.pass) lines.push(`  violated: ${describeViolation(r)}`);
  lines.push(
    `  simulated ${(r.simMs / 1000).toFixed(1)} s in ${(r.wallMs / 1000).toFixed(2)} s (${(r.simMs / Math.max(r.wallMs, 1)).toFixed(0)}x), ${r.events} events`,
    `  ${r.accepted} messages sent, ${r.deliveries} deliveries, ${r.configurations} configuration changes; live at end [${r.liveAtEnd}]`,
    `  faults: ${
      Object.entries(r.faultCounts)
        .filter(([, n]) => n > 0)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ') || 'none'
    }; datagrams ${r.packets.sent} sent, ${r.packets.dropped} dropped, ${r.packets.duplicated} duplicated`,
  );
  if (!r.pass) {
    lines.push(`  rings, replay.sh and result.json written to ${dir}/`);
    for (const n of r.world.describeNodes()) lines.push(`    ${n}`);
  }
  lines.push(`  replay: ${replay}`);
  io.out(`${lines.join('\n')}\n`);
  return r.pass ? 0 : 1;
}

function sweep(flags: Flags, io: SimIo, cores: ReadonlyMap<string, CoreMaker>): number {
  const seeds = parseRange('seeds', flags.values.get('seeds') ?? '1..100', 0, 0xffffffff);
  const nodes = parseRange('nodes', flags.values.get('nodes') ?? '3..7', 1, 12);
  const durationMs = parseDuration(flags.values.get('duration') ?? '5s');
  const settle = flags.values.get('settle');
  const faults = faultsOf(flags);
  const core = coreOf(flags, cores);
  const json = flags.switches.has('json');
  const progress = io.errIsTty && !json;
  const started = Date.now();
  const summary = runSweep({
    seeds,
    nodes,
    core: core.make(),
    durationMs,
    faults,
    settleMs: settle === undefined ? undefined : parseDuration(settle),
    keepGoing: flags.switches.has('keep-going'),
    extra: { recorderSlots: 4096 },
    onResult: (r, done, total) => {
      if (!progress) return;
      const width = 30;
      const filled = Math.round((done / total) * width);
      const bar = `${'#'.repeat(filled)}${'.'.repeat(width - filled)}`;
      const mark = r.pass ? '' : ` FAIL seed ${r.seed}`;
      io.err(`\r[${bar}] ${done}/${total} seed ${r.seed}${mark}   `);
      if (done === total || !r.pass) io.err('\n');
    },
  });
  const replayOf = (seed: number) =>
    replayCommand({
      seed: String(seed),
      nodes: String(nodesForSeed(seed, nodes)),
      duration: formatDuration(durationMs),
      faults: formatFaults(faults),
      settle,
      core: flags.values.get('core'),
      load: flags.values.get('load'),
    });
  let first = summary.firstFailure;
  let dir: string | undefined;
  if (first) {
    // The sweep kept small rings; the seed replays exactly, so run it again with full-size
    // rings for the artifacts (and prove the replay on the way).
    const again = runSimulation({
      seed: first.seed,
      nodes: first.nodes,
      core: core.make(),
      durationMs,
      faults,
      settleMs: settle === undefined ? undefined : parseDuration(settle),
      recorderSlots: 65536,
    });
    if (again.traceHash !== first.traceHash)
      throw new Error(`seed ${first.seed} did not replay: trace ${again.traceHash} != ${first.traceHash}`);
    first = again;
    dir = flags.values.get('out') ?? `./sim-fail-${first.seed}`;
    writeFailureArtifacts(dir, first, replayOf(first.seed));
  }
  const wallS = (Date.now() - started) / 1000;
  if (json) {
    io.out(
      `${JSON.stringify({
        runs: summary.runs,
        passed: summary.passed,
        failed: summary.failed.map((f) => ({ ...f, replay: replayOf(f.seed) })),
        byInvariant: summary.byInvariant,
        simMs: summary.simMs,
        wallMs: Math.round(summary.wallMs),
        deliveries: summary.deliveries,
        artifacts: dir ?? null,
      })}\n`,
    );
    return first ? 1 : 0;
  }
  const lines = [
    `${first ? 'FAIL' : 'PASS'} ${summary.passed}/${summary.runs} seeds passed (seeds ${seeds[0]}..${seeds[1]}, nodes ${nodes[0]}..${nodes[1]}, ${formatDuration(durationMs)} faulty + settle, faults ${formatFaults(faults)}, core ${core.name})`,
    `  simulated ${(summary.simMs / 1000).toFixed(0)} s in ${wallS.toFixed(1)} s, ${summary.deliveries} deliveries`,
  ];
  if (first) {
    const counts = Object.entries(summary.byInvariant).map(([k, n]) => `${k} ${n}`);
    lines.push(`  violations: ${counts.join(', ')}`);
    lines.push(`  first failing seed ${first.seed}: ${describeViolation(first)}`);
    lines.push(`  rings written to ${dir}/`);
    lines.push(`  replay: ${replayOf(first.seed)}`);
  }
  io.out(`${lines.join('\n')}\n`);
  return first ? 1 : 0;
}
