/**
 * Checkpoints across real daemons: a checkpoint written through one node is read on the
 * others; a daemon killed with -9 and restarted comes back with every checkpoint (synced to
 * it when it rejoins), including sections written while it was down and empty sections.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Ckpt } from '../../src/client/index.js';
import type { NodeId } from '../../src/core/io.js';
import { DaemonCluster } from './daemons.js';

const clusters: DaemonCluster[] = [];
const clients: Ckpt[] = [];
after(async () => {
  for (const c of clients) await c.close().catch(() => {});
  for (const c of clusters) await c.destroy();
});

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

async function connect(c: DaemonCluster, node: NodeId): Promise<Ckpt> {
  const ckpt = await Ckpt.connect({ socket: c.layout.ipcSocket(node), name: `ckpt test on ${node}` });
  clients.push(ckpt);
  return ckpt;
}

test('write on one daemon, read on the others; a killed and restarted daemon comes back with every checkpoint', async () => {
  const c = await DaemonCluster.create({ size: 3, crypto: 'aes256' });
  clusters.push(c);
  await c.ring([1, 2, 3], 15_000);

  const on1 = await connect(c, 1);
  const cp = await on1.open('orders', {
    create: { maxSections: 64, maxSectionSize: 4096 },
    read: true,
    write: true,
  });
  await cp.createSection('a', 'alpha');
  await cp.createSection('empty', '');
  await cp.write('a', 'ALPHA');

  for (const node of [2, 3] as const) {
    const client = await connect(c, node);
    const h = await client.open('orders', { read: true });
    assert.equal(text(await h.read('a')), 'ALPHA', `node ${node} reads what node 1 wrote`);
    assert.equal((await h.read('empty')).length, 0);
    await h.close();
    await client.close();
  }

  await c.kill9(3);
  await c.ring([1, 2], 15_000);
  // Written while node 3 is down: node 3 must get it from the sync round when it rejoins.
  await cp.createSection('b', 'beta');
  await cp.overwrite('a', 'A2');

  c.start(3);
  await c.ring([1, 2, 3], 20_000);
  const on3 = await connect(c, 3);
  const back = await on3.open('orders', { read: true });
  // The sync round may still be finishing: reads are retried on TRY_AGAIN by the library.
  assert.equal(text(await back.read('a')), 'A2');
  assert.equal(text(await back.read('b')), 'beta');
  assert.equal((await back.read('empty')).length, 0);
  const names = (await on3.list()).map((s) => s.name);
  assert.ok(names.includes('orders'), `checkpoints on node 3: ${names.join(', ')}`);
  await back.close();
  await cp.close();
});
