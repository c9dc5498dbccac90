import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Ckpt, CkptError, ErrorCode, TotemError } from '../../src/index.js';
import { totalRefs } from '../../src/services/ckpt/database.js';
import { CkptDaemons, type CkptDaemons as Daemons } from './daemons.js';

const refs = (d: Daemons, name: string) =>
  [...d.nodes.values()].map((n) => {
    const c = n.ckpt.database.linked.get(name);
    return c ? totalRefs(c) : -1;
  });

const until = async (what: string, cond: () => boolean) => {
  for (let i = 0; i < 400 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), what);
};

test('a client dying mid-request leaks no handles: reference counts drop on every replica', async () => {
  const d = await CkptDaemons.start([1, 2, 3]);
  try {
    const keeper = await Ckpt.connect({ socket: d.node(2).socket });
    const kept = await keeper.open('shared', { create: true });
    await kept.createSection('s', 'data');
    const dying = await Ckpt.connect({ socket: d.node(1).socket });
    const held = await dying.open('shared');
    assert.deepEqual(refs(d, 'shared'), [2, 2, 2]);
    // Hold the ring: an open and a write are in flight when the client goes.
    d.autoSettle = false;
    const inFlight = [
      dying.open('shared').catch((e: unknown) => e),
      held.write('s', 'xx').catch((e: unknown) => e),
    ];
    await until('requests reached the daemon', () => d.node(1).binding.pendingRequests === 2);
    await dying.close();
    for (const e of await Promise.all(inFlight)) {
      assert.ok(e instanceof TotemError && e.code === ErrorCode.LIBRARY, String(e));
    }
    await until('the daemon saw the disconnect', () => d.node(1).binding.pendingRequests === 0);
    d.autoSettle = true;
    d.ring.settle();
    assert.deepEqual(refs(d, 'shared'), [1, 1, 1], 'only the keeper still holds it');
    assert.equal(d.node(1).ckpt.openHandles, 0);
    assert.equal(d.node(2).ckpt.openHandles, 1);
    const [first, ...rest] = d.dumps();
    for (const r of rest) assert.equal(r, first);
    await kept.close();
    assert.deepEqual(refs(d, 'shared'), [0, 0, 0]);
    await keeper.close();
  } finally {
    await d.stop();
  }
});

test('a client process killed with open handles: the daemon closes them', async () => {
  const d = await CkptDaemons.start([1, 2, 3]);
  try {
    const entry = fileURLToPath(new URL('../../src/index.js', import.meta.url));
    const script = `
      const { Ckpt } = await import(${JSON.stringify(entry)});
      const c = await Ckpt.connect({ socket: process.argv[1] });
      const cp = await c.open('victim', { create: true });
      await c.open('victim');
      console.log('open');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, d.node(3).socket], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve) => child.stdout.on('data', () => resolve()));
    assert.deepEqual(refs(d, 'victim'), [2, 2, 2]);
    child.kill('SIGKILL');
    await until('handles closed after the kill', () => refs(d, 'victim').every((r) => r === 0));
    assert.equal(d.node(3).ckpt.openHandles, 0);
  } finally {
    await d.stop();
  }
});

test('reconnect: after the daemon drops the connection, the next call reconnects; old handles are BAD_HANDLE', async () => {
  const d = await CkptDaemons.start([1, 2]);
  try {
    const c = await Ckpt.connect({ socket: d.node(1).socket });
    const cp = await c.open('r', { create: true });
    await cp.createSection('s', 'kept');
    await d.restartServer(1);
    d.ring.settle();
    assert.deepEqual(refs(d, 'r'), [0, 0], 'the dropped connection held nothing afterwards');
    await assert.rejects(
      cp.read('s'),
      (e: unknown) =>
        e instanceof CkptError && e.aisName === 'BAD_HANDLE' && /open the checkpoint again/.test(e.message),
    );
    assert.equal(c.connected, true, 'that call reconnected');
    const again = await c.open('r');
    assert.equal(new TextDecoder().decode(await again.read('s')), 'kept');
    await c.close();
  } finally {
    await d.stop();
  }
});
