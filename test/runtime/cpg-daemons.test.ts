/**
 * Closed process groups across real daemons: Cpg clients (in this process, and `totem cpg join`
 * child processes) on three daemons join one group, exchange messages and must see the same
 * order and the same membership changes; a client killed with -9 is seen leaving with
 * proc-down on every node; a daemon killed with -9 takes its client out with node-down; the
 * restarted daemon's client (reconnecting by itself) joins again. Then the daemons' flight
 * recorders replay clean. Token 400 ms, consensus 480 ms.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Cpg, type CpgConfigurationChange, type CpgMessage } from '../../src/client/index.js';
import type { NodeId } from '../../src/core/io.js';
import { DaemonCluster, sleep } from './daemons.js';

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const GROUP = 'cpg-daemons';
const clusters: DaemonCluster[] = [];
const children: ChildProcess[] = [];
const clients: Cpg[] = [];
after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const c of clusters) await c.destroy();
});

/** One application: a Cpg client that records, in arrival order, what its group shows it. */
class App {
  readonly messages: string[] = [];
  readonly changes: string[] = [];
  readonly raw: CpgConfigurationChange[] = [];

  private constructor(
    readonly node: NodeId,
    readonly cpg: Cpg,
  ) {
    cpg.on('message', (m: CpgMessage) => this.messages.push(`${m.nodeId}/${m.pid}:${m.text()}`));
    cpg.on('confchg', (c: CpgConfigurationChange) => {
      this.raw.push(c);
      this.changes.push(describe(c));
    });
  }

  static async start(c: DaemonCluster, node: NodeId): Promise<App> {
    const cpg = await Cpg.connect({
      socket: c.layout.ipcSocket(node),
      name: `test app on ${node}`,
      reconnect: { initialDelayMs: 100, maxDelayMs: 300 },
    });
    clients.push(cpg);
    const app = new App(node, cpg);
    await cpg.join(GROUP);
    return app;
  }

  get members(): string {
    const last = this.raw.at(-1);
    return last ? last.members.map((m) => `${m.nodeId}/${m.pid}`).join(',') : '';
  }
}

function describe(c: CpgConfigurationChange): string {
  const list = (ms: CpgConfigurationChange['left']) =>
    ms.map((m) => `${m.nodeId}/${m.pid}(${m.reason})`).join(',');
  return `members ${list(c.members)} left ${list(c.left)} joined ${list(c.joined)}`;
}

async function until(
  what: string,
  timeoutMs: number,
  ok: () => boolean,
  detail: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) assert.fail(`${what} within ${timeoutMs} ms:\n${detail()}`);
    await sleep(25);
  }
}

function show(apps: readonly App[]): string {
  return apps.map((a) => `app on ${a.node}: [${a.members}]\n  ${a.changes.join('\n  ')}`).join('\n');
}

test('cpg clients on 3 daemons: one order, one membership; proc-down, node-down, rejoin; fplay clean', {
  timeout: 120_000,
}, async () => {
  const c = await DaemonCluster.create({ size: 3 });
  clusters.push(c);
  await c.ring([1, 2, 3], 10_000);

  const apps: App[] = [];
  for (const n of c.nodes) apps.push(await App.start(c, n));
  const pids = (a: App) => `${a.node}/${process.pid}`;
  const all = apps.map(pids).join(',');
  await until(
    'every app sees the three apps',
    10_000,
    () => apps.every((a) => a.members === all),
    () => show(apps),
  );

  // Every app multicasts; every app delivers all of it in one order.
  const perSender = 40;
  await Promise.all(
    apps.map(async (a) => {
      for (let i = 0; i < perSender; i++) await a.cpg.send(GROUP, `m${i} from ${a.node}`);
    }),
  );
  await until(
    'every app delivers every message',
    15_000,
    () => apps.every((a) => a.messages.length >= 3 * perSender),
    () => apps.map((a) => `app on ${a.node}: ${a.messages.length}`).join(', '),
  );
  for (const a of apps) {
    assert.equal(a.messages.length, 3 * perSender);
    assert.deepEqual(a.messages, apps[0]!.messages, `app on ${a.node} delivered another order`);
  }

  // From here on every app sees the same changes.
  for (const a of apps) a.changes.length = 0;

  // A client process on node 2 joins, then is killed with -9.
  const child = spawn(process.execPath, [MAIN, 'cpg', '--socket', c.layout.ipcSocket(2), 'join', GROUP], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const childId = `2/${child.pid}`;
  await until(
    'every app sees the client process join',
    10_000,
    () => apps.every((a) => a.changes.some((x) => x.includes(`joined ${childId}(join)`))),
    () => show(apps),
  );
  child.kill('SIGKILL');
  await until(
    'every app sees the client process go down',
    10_000,
    () => apps.every((a) => a.changes.some((x) => x.includes(`left ${childId}(proc-down)`))),
    () => show(apps),
  );
  for (const a of apps) assert.deepEqual(a.changes, apps[0]!.changes, `app on ${a.node} saw other changes`);
  assert.equal(apps[0]!.changes.length, 2, show(apps));

  // Daemon 3 is killed with -9: its app is seen leaving with node-down.
  for (const a of apps) a.changes.length = 0;
  const survivors = apps.slice(0, 2);
  const gone = `3/${process.pid}`;
  await c.kill9(3);
  await until(
    'the surviving apps see node 3 down',
    10_000,
    () => survivors.every((a) => a.changes.some((x) => x.includes(`left ${gone}(node-down)`))),
    () => show(apps),
  );
  assert.deepEqual(survivors[1]!.changes, survivors[0]!.changes);
  assert.equal(survivors[0]!.members, `1/${process.pid},2/${process.pid}`);

  // Restarted, daemon 3 rejoins the ring; its app reconnects by itself and joins again.
  for (const a of apps) a.changes.length = 0;
  c.start(3);
  await c.ring([1, 2, 3], 15_000);
  await until(
    'every app sees node 3 back',
    15_000,
    () => apps.every((a) => a.members === all),
    () => show(apps),
  );
  const rejoin = survivors[0]!.changes.at(-1)!;
  assert.match(rejoin, new RegExp(`joined 3/${process.pid}\\((join|node-up)\\)`));
  assert.deepEqual(survivors[1]!.changes, survivors[0]!.changes);

  // The group still orders messages identically, the restarted node's app included.
  for (const a of apps) a.messages.length = 0;
  for (const a of apps) await a.cpg.send(GROUP, `after from ${a.node}`);
  await until(
    'every app delivers the messages sent after the restart',
    10_000,
    () => apps.every((a) => a.messages.length >= 3),
    () => apps.map((a) => `app on ${a.node}: ${a.messages.join(' ')}`).join('\n'),
  );
  for (const a of apps) assert.deepEqual(a.messages, apps[0]!.messages);

  // Every daemon ran its sync rounds (cpg and ckpt both registered) and serves clients.
  for (const st of await c.statuses()) {
    assert.ok(st.sync.roundsCompleted >= 1, JSON.stringify(st.sync));
    assert.equal(st.sync.inProgress, false);
    assert.equal(st.ipc.socket, c.layout.ipcSocket(st.nodeId));
    assert.equal(st.ipc.connections, 1);
    assert.deepEqual([st.cpg.groups, st.cpg.processes], [1, 3]);
    assert.equal(st.ckpt.checkpoints, 0);
  }

  for (const cpg of clients.splice(0)) await cpg.close();
  for (const n of c.nodes) assert.equal(await c.terminate(n), 'SIGTERM');
  const check = spawnSync(process.execPath, [MAIN, 'fplay', 'check', c.layout.ringDir], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /checked 4 ring\(s\)/);
  assert.match(check.stdout, /check: clean/);
});
