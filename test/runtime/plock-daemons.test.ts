/**
 * Plocks across real daemons: an exclusive lock on node 1 blocks a waiter on node 2 until it
 * is unlocked; kill -9 of the holder's daemon hands its lock to a waiter on another node; a
 * restarted daemon recovers the other nodes' locks (from the gfsplock checkpoint). Run with
 * plock ownership off and on.
 */
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { PLOCK_EOF, Plock } from '../../src/client/index.js';
import type { NodeId } from '../../src/core/io.js';
import { DaemonCluster, sleep } from './daemons.js';

const clusters: DaemonCluster[] = [];
const clients: Plock[] = [];
after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  for (const c of clusters) await c.destroy();
});

async function connect(c: DaemonCluster, node: NodeId): Promise<Plock> {
  const p = await Plock.connect({ socket: c.layout.ipcSocket(node), name: `plock test on ${node}` });
  clients.push(p);
  return p;
}

/** Settles within `ms`, or fails with `what`. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** True when `p` has not settled after `ms`. */
async function stillPending(p: Promise<unknown>, ms: number): Promise<boolean> {
  let settled = false;
  p.then(
    () => (settled = true),
    () => (settled = true),
  );
  await sleep(ms);
  return !settled;
}

/** Retries `fn` until it returns true (the joining daemon may still be loading its state). */
async function eventually(fn: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn().catch(() => false)) return;
    await sleep(100);
  }
  assert.fail(`${what}: not within ${ms} ms`);
}

for (const ownership of [false, true]) {
  test(`daemons, ownership ${ownership ? 'on' : 'off'}: waiters, kill -9 release, restart recovery`, async () => {
    const c = await DaemonCluster.create({ size: 3, start: [] });
    clusters.push(c);
    if (ownership)
      for (const n of c.nodes) appendFileSync(c.layout.configFile(n), '\nplock {\n  ownership: on\n}\n');
    for (const n of c.nodes) c.start(n);
    await c.ring([1, 2, 3], 20_000);
    const t = { space: 'fs', inode: 42, start: 0, end: PLOCK_EOF };

    const on1 = await connect(c, 1);
    const on2 = await connect(c, 2);
    const on3 = await connect(c, 3);
    await within(on1.lock({ ...t, owner: 1, exclusive: true }), 10_000, 'lock on node 1');
    const waiting2 = on2.lock({ ...t, start: 10, end: 10, owner: 2, exclusive: true });
    assert.ok(await stillPending(waiting2, 500), "node 2's lock waits for node 1's");
    await assert.rejects(on3.lock({ ...t, owner: 3, exclusive: false, wait: false }), {
      code: 'WOULD_BLOCK',
    });
    const seen = await on3.test({ ...t, owner: 3, exclusive: false });
    assert.equal(seen?.nodeId, 1);
    await on1.unlock({ ...t, owner: 1 });
    await within(waiting2, 10_000, "node 2's lock after node 1's unlock");

    // Node 2 holds byte 10; node 3 waits for it; node 2's daemon dies.
    const waiting3 = on3.lock({ ...t, start: 0, end: 100, owner: 3, exclusive: true });
    assert.ok(await stillPending(waiting3, 300));
    await c.kill9(2);
    await within(waiting3, 20_000, "node 3's lock after node 2's daemon was killed");
    await c.ring([1, 3], 20_000);

    // Node 2 comes back: it learns node 3's lock from the checkpoint.
    c.start(2);
    await c.ring([1, 2, 3], 20_000);
    const again2 = await connect(c, 2);
    await eventually(
      async () => (await again2.list('fs', 42)).some((h) => h.nodeId === 3 && h.start === 0 && h.end === 100),
      15_000,
      'node 2 lists node 3 lock',
    );
    const holder = await again2.test({ ...t, owner: 9, exclusive: true });
    assert.equal(holder?.nodeId, 3);
    await assert.rejects(again2.lock({ ...t, start: 50, end: 50, owner: 9, exclusive: true, wait: false }), {
      code: 'WOULD_BLOCK',
    });
    // Closing the holder's connection releases its lock for node 2.
    const waiting2b = again2.lock({ ...t, start: 50, end: 50, owner: 9, exclusive: true });
    await on3.close();
    await within(waiting2b, 10_000, "node 2's lock after node 3's client closed");
    const status = await c.status(2);
    assert.equal(status?.plock.ready, true);
    assert.equal(status?.plock.ownership, ownership);
    assert.ok((status?.plock.loads ?? 0) >= 1, 'node 2 loaded the checkpoint');
  });
}
