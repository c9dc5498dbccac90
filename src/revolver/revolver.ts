/**
 * The revolver: a real cluster of daemons on loopback under a client load, where each
 * iteration kills 1..k random daemons with SIGKILL (sometimes staggered into the survivors'
 * membership change, sometimes restarting them during it), waits for the survivors' ring and
 * then the full ring (measuring both recoveries), and checks: the load's invariants (lock
 * conflicts from the clients' own log), no operation outstanding beyond a bound, replicas
 * identical on every node once the load is paused, and `fplay check` over every ring,
 * killed incarnations included. The first failure stops the run with everything kept.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { NodeId } from '../core/io.js';
import { CkptLoad } from '../load/ckpt-load.js';
import type { ClusterLoad, LoadCounters, LoadFinding } from '../load/cluster-load.js';
import type { PlockConnect } from '../load/plock-api.js';
import { PlockLoad } from '../load/plock-load.js';
import { DEFAULT_PLOCK_WORKLOAD, PlockWorkload } from '../load/plock-workload.js';
import {
  alive,
  type ClusterLayout,
  findFreePorts,
  killNode,
  readPid,
  sleep,
  startNode,
  stopInTurn,
  waitForRing,
  writeCluster,
} from '../runtime/cluster.js';
import { controlRequest } from '../runtime/control.js';
import { percentile } from './percentile.js';
import { RingArchive } from './ring-archive.js';
import { type IterationPlan, type KillRange, KillSchedule } from './schedule.js';

export type LoadName = 'plock' | 'ckpt';

export interface RevolverOptions {
  readonly nodes: number;
  readonly iterations: number;
  readonly kill: KillRange;
  readonly load: LoadName;
  readonly seed: number;
  readonly dir: string;
  /** Token timeout of the daemons (ms). */
  readonly token: number;
  /** fplay check over the rings every this many iterations (and at the end). */
  readonly ringCheckEvery: number;
  /** An operation outstanding longer than this (ms, not counting pauses) is a failure. */
  readonly stuckMs: number;
  /** A ring not formed within this (ms) after a kill or restart is a failure. */
  readonly recoveryBoundMs: number;
  readonly ownersPerNode?: number;
  /** Keep every killed ring even when its check was clean. */
  readonly keepRings?: boolean;
  readonly plockConnect?: PlockConnect;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: RevolverProgress) => void;
  /** Test hook: runs before each iteration's checks (to plant a failure for them to find). */
  readonly beforeChecks?: (iteration: number, load: ClusterLoad) => void;
}

export interface RevolverProgress {
  readonly iteration: number;
  readonly iterations: number;
  readonly kills: number;
  readonly phase: string;
  readonly lastKillRecoveryMs: number | undefined;
  readonly lastRestartRecoveryMs: number | undefined;
  readonly counters: LoadCounters;
  readonly elapsedMs: number;
}

export interface RevolverFailure {
  readonly iteration: number;
  /** What was under way: 'kill', 'recovering', 'restarting', 'checking', 'final check'... */
  readonly phase: string;
  readonly plan: IterationPlan | undefined;
  readonly findings: readonly string[];
}

export interface RevolverResult {
  readonly seed: number;
  readonly dir: string;
  readonly iterationsDone: number;
  readonly kills: number;
  /** Kill → survivors in one regular ring (ms), for iterations that waited for it. */
  readonly killRecoveryMs: readonly number[];
  /** Restart → every node in one regular ring (ms). */
  readonly restartRecoveryMs: readonly number[];
  readonly counters: LoadCounters;
  readonly ringChecks: number;
  readonly ringsChecked: number;
  readonly elapsedMs: number;
  readonly failure: RevolverFailure | undefined;
  /** Where rings, logs and the seed are (kept on failure). */
  readonly ringDirs: readonly string[];
  readonly aborted: boolean;
}

class Failed extends Error {
  constructor(readonly findings: string[]) {
    super(findings.join('; '));
  }
}

/** Ctrl-C or SIGTERM during a wait: the run stops there, cleanly, not as a failure. */
class Interrupted extends Error {}

export async function runRevolver(o: RevolverOptions): Promise<RevolverResult> {
  const clock = (): number => performance.now();
  const started = clock();
  const basePort = await findFreePorts(o.nodes);
  const layout = await writeCluster({
    dir: o.dir,
    size: o.nodes,
    basePort,
    token: o.token,
    crypto: 'none',
    clusterName: 'revolver',
    debug: 'off',
  });
  const pids = new Set<number>();
  const start = (n: NodeId): void => {
    pids.add(startNode(layout, n));
  };
  const archive = new RingArchive(layout.dir, layout.ringDir, o.keepRings === true);
  const schedule = new KillSchedule({ seed: o.seed, nodes: layout.nodes, kill: o.kill, tokenMs: o.token });
  const load = makeLoad(o, layout, clock);
  const killRecovery: number[] = [];
  const restartRecovery: number[] = [];
  let kills = 0;
  let done = 0;
  let ringChecks = 0;
  let ringsChecked = 0;
  let phase = 'starting';
  let plan: IterationPlan | undefined;
  let failure: RevolverFailure | undefined;
  const progress = (): void =>
    o.onProgress?.({
      iteration: plan?.iteration ?? 0,
      iterations: o.iterations,
      kills,
      phase,
      lastKillRecoveryMs: killRecovery.at(-1),
      lastRestartRecoveryMs: restartRecovery.at(-1),
      counters: load.counters(),
      elapsedMs: clock() - started,
    });
  const ticker = setInterval(progress, 1000);
  const fail = (...findings: string[]): never => {
    throw new Failed(findings);
  };
  const ring = async (nodes: readonly NodeId[], what: string): Promise<number> => {
    const t = clock();
    const r = await waitForRing(layout, nodes, o.recoveryBoundMs, o.signal);
    if (o.signal?.aborted) throw new Interrupted();
    if (!r)
      fail(
        `${what}: nodes [${nodes.join(' ')}] did not form one regular ring within ${o.recoveryBoundMs} ms`,
      );
    return clock() - t;
  };
  const wait = async (ms: number): Promise<void> => {
    await sleep(ms, o.signal);
    if (o.signal?.aborted) throw new Interrupted();
  };
  const ringCheck = (): void => {
    const { report, rings, errors } = archive.check();
    ringChecks++;
    ringsChecked += rings;
    const found = report.findings.map((f) => `fplay check: ${f.kind}: ${f.message}`);
    if (found.length > 0 || errors.length > 0) fail(...found, ...errors.map((e) => `ring unreadable: ${e}`));
  };

  try {
    for (const n of layout.nodes) start(n);
    phase = 'forming';
    await ring(layout.nodes, 'start');
    load.start(layout.nodes);
    for (let i = 0; i < o.iterations; i++) {
      if (o.signal?.aborted) break;
      plan = schedule.next();
      phase = 'kill';
      progress();
      for (const n of layout.nodes) {
        const pid = readPid(layout, n);
        if (pid === undefined || !alive(pid)) fail(`node ${n} exited on its own (see ${layout.outFile(n)})`);
      }
      const t0 = clock();
      for (const [k, v] of plan.victims.entries()) {
        if (k > 0 && plan.staggerMs > 0) await wait(plan.staggerMs);
        load.nodeDown(v, clock());
        await killNode(layout, v);
        kills++;
      }
      const survivors = layout.nodes.filter((n) => !plan!.victims.includes(n));
      if (plan.earlyRestartMs === undefined) {
        phase = 'recovering';
        await ring(survivors, `after killing ${plan.victims.join(' ')}`);
        killRecovery.push(clock() - t0);
      } else {
        await wait(plan.earlyRestartMs);
      }
      phase = 'restarting';
      for (const v of plan.victims) start(v);
      restartRecovery.push(await ring(layout.nodes, `after restarting ${plan.victims.join(' ')}`));
      archive.collect();
      for (const v of plan.victims) load.nodeUp(v);
      phase = 'load';
      await wait(plan.runMs);
      phase = 'checking';
      o.beforeChecks?.(plan.iteration, load);
      const found = load.check(o.stuckMs);
      found.push(...(await load.pause(o.stuckMs)));
      if (found.length === 0) {
        found.push(...(await load.replicaCheck(5000)));
        found.push(...(await digestsAgree(layout, 5000)));
      }
      load.resume();
      if (found.length > 0) fail(...found.map((f) => `${f.kind}: ${f.message}`));
      if (plan.iteration % o.ringCheckEvery === 0) ringCheck();
      done = plan.iteration;
      progress();
    }
    phase = 'stopping';
    const last = load.check(o.stuckMs);
    if (last.length > 0) fail(...last.map((f) => `${f.kind}: ${f.message}`));
    await load.stop();
    await stopInTurn(layout, layout.nodes);
    phase = 'final check';
    ringCheck();
  } catch (err) {
    if (err instanceof Failed)
      failure = { iteration: plan?.iteration ?? 0, phase, plan, findings: err.findings };
    else if (!(err instanceof Interrupted)) throw err;
  } finally {
    clearInterval(ticker);
    await load.stop().catch(() => undefined);
    // Nothing this run started outlives it; a failure freezes the daemons as they are.
    for (const pid of pids)
      if (alive(pid))
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Exited meanwhile.
        }
    const deadline = Date.now() + 5000;
    while ([...pids].some(alive) && Date.now() < deadline) await sleep(20);
  }
  if (failure) {
    archive.collect();
    if (load instanceof PlockLoad) writeLockLog(layout, load);
  }
  phase = failure ? 'failed' : 'done';
  const result: RevolverResult = {
    seed: o.seed,
    dir: layout.dir,
    iterationsDone: done,
    kills,
    killRecoveryMs: killRecovery,
    restartRecoveryMs: restartRecovery,
    counters: load.counters(),
    ringChecks,
    ringsChecked,
    elapsedMs: clock() - started,
    failure,
    ringDirs: archive.allDirs().filter((d) => existsSync(d)),
    aborted: o.signal?.aborted === true,
  };
  return result;
}

function makeLoad(o: RevolverOptions, layout: ClusterLayout, clock: () => number): ClusterLoad {
  const socket = (n: NodeId): string => layout.ipcSocket(n);
  if (o.load === 'ckpt')
    return new CkptLoad({
      nodes: layout.nodes,
      socket,
      seed: o.seed,
      clock,
      ownersPerNode: o.ownersPerNode ?? 4,
    });
  if (!o.plockConnect) throw new Error('the plock load needs a plock client');
  return new PlockLoad({
    nodes: layout.nodes,
    socket,
    connect: o.plockConnect,
    workload: new PlockWorkload({ ...DEFAULT_PLOCK_WORKLOAD, seed: o.seed }),
    ownersPerNode: o.ownersPerNode ?? 8,
    clock,
  });
}

/** Every node's digest of its replicated state is the same (retried while updates settle). */
async function digestsAgree(layout: ClusterLayout, timeoutMs: number): Promise<LoadFinding[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answers = await Promise.all(
      layout.nodes.map((n) =>
        controlRequest(layout.socket(n), { op: 'digest' }, 2000).then(
          (r) => (r.ok ? JSON.stringify(r.digest) : `error ${r.error}`),
          (err: Error) => `no answer: ${err.message}`,
        ),
      ),
    );
    if (
      new Set(answers).size === 1 &&
      !answers[0]!.startsWith('error') &&
      !answers[0]!.startsWith('no answer')
    )
      return [];
    if (Date.now() > deadline)
      return [
        {
          kind: 'replica',
          message: `replica digests differ: ${answers.map((a, i) => `node ${layout.nodes[i]}: ${a}`).join('; ')}`,
        },
      ];
    await sleep(100);
  }
}

function writeLockLog(layout: ClusterLayout, load: PlockLoad): void {
  const lines = load.log
    .intervals()
    .sort((a, b) => a.from - b.from)
    .map((iv) => JSON.stringify({ ...iv, to: Number.isFinite(iv.to) ? iv.to : null }));
  writeFileSync(`${layout.dir}/lock-log.jsonl`, `${lines.join('\n')}\n`);
}

export function summarize(r: RevolverResult): string[] {
  const ms = (v: number): string => (Number.isNaN(v) ? '-' : `${(v / 1000).toFixed(2)} s`);
  const c = r.counters;
  return [
    `iterations: ${r.iterationsDone}, kills: ${r.kills}, elapsed ${(r.elapsedMs / 1000).toFixed(0)} s, seed ${r.seed}`,
    `recovery kill -> survivors' ring: p50 ${ms(percentile(r.killRecoveryMs, 50))}, p99 ${ms(percentile(r.killRecoveryMs, 99))} (${r.killRecoveryMs.length} measured)`,
    `recovery restart -> full ring:    p50 ${ms(percentile(r.restartRecoveryMs, 50))}, p99 ${ms(percentile(r.restartRecoveryMs, 99))} (${r.restartRecoveryMs.length} measured)`,
    `load: ${c.ops} operations (${c.lockOps} lock operations${c.grants !== undefined ? `: ${c.grants} grants, ${c.releases} releases, ${c.wouldBlock} would-block` : ''}), ${c.errors} client errors`,
    `fplay check: ${r.ringChecks} check(s) over ${r.ringsChecked} ring image(s)`,
  ];
}
