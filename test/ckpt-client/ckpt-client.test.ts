import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Ckpt, CkptError, CreationFlags, ErrorCode, TIME_END, TotemError } from '../../src/index.js';
import { CkptDaemons } from './daemons.js';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const ais = (name: string) => (err: unknown) => err instanceof CkptError && err.aisName === name;

test('ckpt client: every call across three replicas, which agree', async () => {
  const d = await CkptDaemons.start([1, 2, 3]);
  try {
    const a = await Ckpt.connect({ socket: d.node(1).socket });
    const b = await Ckpt.connect({ socket: d.node(3).socket });
    assert.equal(a.nodeId, 1);
    const cp = await a.open('state', { create: { maxSections: 4, maxSectionSize: 64 } });
    const id = await cp.createSection('config', 'v1');
    assert.equal(text(id), 'config');
    const generated = await cp.createSection(undefined, new Uint8Array([1, 2]));
    assert.equal(generated.length, 4);
    await cp.write('config', '23', { offset: 1 });
    const other = await b.open('state', { read: true, write: false });
    assert.equal(text(await other.read('config')), 'v23');
    assert.equal(text(await other.read('config', { offset: 1, size: 1 })), '2');
    await cp.overwrite('config', 'v2');
    await cp.writeMany([
      { id: generated, data: 'x', offset: 2 },
      { id: 'config', data: '!', offset: 2 },
    ]);
    assert.deepEqual(
      (await other.readMany([{ id: 'config' }, { id: generated, size: 3 }])).map((x) => [...x]),
      [[...Buffer.from('v2!')], [1, 2, 120]],
    );
    await cp.setExpiration(generated, d.now + 5000);
    const sections = [];
    for await (const s of other.sections()) sections.push(`${s.name.length}:${s.size}:${s.expirationTime}`);
    assert.deepEqual(sections, [`4:3:${d.now + 5000}`, `6:3:${TIME_END}`]);
    const forever = [];
    for await (const s of other.sections({ chosen: 'forever' })) forever.push(s.name);
    assert.deepEqual(forever, ['config']);
    const st = await other.status();
    assert.equal(st.numberOfSections, 2);
    assert.equal(st.memoryUsed, 6);
    assert.equal(st.attributes.maxSections, 4);
    assert.equal(st.attributes.checkpointSize, 256);
    await cp.setRetention(10_000);
    assert.equal((await other.status()).attributes.retentionDuration, 10_000);
    await cp.deleteSection(generated);
    assert.deepEqual(await a.list(), [{ name: 'state', numberOfSections: 1, memoryUsed: 3, openHandles: 2 }]);
    const weak = await a.open('weak', { create: { creationFlags: CreationFlags.WrActiveReplica } });
    await weak.synchronize();
    await weak.close();
    // Section expiry is ordered: the daemons' clock passes it, every replica drops it.
    await cp.createSection('short', 'x', { expiration: d.now + 100 });
    d.tick(d.now + 200);
    await assert.rejects(other.read('short'), ais('NOT_EXIST'));
    await cp.close();
    await a.unlink('state');
    assert.equal(text(await other.read('config')), 'v2!', 'lives on for its open handle');
    await other.close();
    assert.deepEqual(await a.list(), [{ name: 'weak', numberOfSections: 0, memoryUsed: 0, openHandles: 0 }]);
    const [first, ...rest] = d.dumps();
    for (const r of rest) assert.equal(r, first);
    assert.ok(!first!.includes('"state"') || !first!.includes('config'));
    for (const n of d.nodes.values()) assert.equal(n.ckpt.openHandles, 0);
    await a.close();
    await b.close();
  } finally {
    await d.stop();
  }
});

test('ckpt client: each AIS error reaches the client typed, with its IPC code', async () => {
  const d = await CkptDaemons.start([1, 2, 3]);
  try {
    const c = await Ckpt.connect({ socket: d.node(2).socket });
    const is = (name: string, code: number) => (err: unknown) =>
      err instanceof CkptError &&
      err instanceof TotemError &&
      err.aisName === name &&
      err.code === code &&
      err.message.includes(`SA_AIS_ERR_${name}`);
    await assert.rejects(c.open('missing'), is('NOT_EXIST', ErrorCode.NOT_EXIST));
    await assert.rejects(c.open(''), is('INVALID_PARAM', ErrorCode.INVALID_PARAM));
    await assert.rejects(c.open('x'.repeat(257)), is('NAME_TOO_LONG', ErrorCode.NAME_TOO_LONG));
    await assert.rejects(
      c.open('f', { create: { creationFlags: 0x30 } }),
      is('BAD_FLAGS', ErrorCode.INVALID_PARAM),
    );
    const cp = await c.open('e', { create: { maxSections: 2, maxSectionSize: 8, maxSectionIdSize: 4 } });
    await assert.rejects(c.open('e', { create: { maxSections: 3 } }), is('EXIST', ErrorCode.EXIST));
    await cp.createSection('a', '1234');
    await assert.rejects(cp.createSection('a'), is('EXIST', ErrorCode.EXIST));
    await assert.rejects(cp.createSection('toolong'), is('INVALID_PARAM', ErrorCode.INVALID_PARAM));
    await cp.createSection('b');
    await assert.rejects(cp.createSection('c'), is('NO_SPACE', ErrorCode.NO_MEMORY));
    await assert.rejects(cp.write('a', '123456789'), is('TOO_BIG', ErrorCode.TOO_BIG));
    const failed = await cp
      .writeMany([
        { id: 'a', data: 'ok' },
        { id: 'zz', data: 'no' },
      ])
      .catch((e: unknown) => e);
    assert.ok(failed instanceof CkptError && failed.aisName === 'NOT_EXIST' && failed.errorIndex === 1);
    await assert.rejects(cp.synchronize(), is('BAD_OPERATION', ErrorCode.NOT_SUPPORTED));
    const ro = await c.open('e', { write: false });
    await assert.rejects(ro.write('a', 'x'), is('ACCESS', ErrorCode.ACCESS));
    const it = ro.sections({ chosen: 'forever' });
    assert.equal((await it.next()).value?.name, 'a');
    assert.equal((await it.next()).value?.name, 'b');
    assert.equal((await it.next()).done, true, 'NO_SECTIONS ends the iteration');
    // Two closes in flight: the daemon refuses the second (the handle is being closed).
    const closes = await Promise.allSettled([ro.close(), ro.close()]);
    assert.equal(closes[0]!.status, 'fulfilled');
    assert.ok(closes[1]!.status === 'rejected' && is('BAD_HANDLE', ErrorCode.BAD_HANDLE)(closes[1]!.reason));
    await assert.rejects(ro.read('a'), is('BAD_HANDLE', ErrorCode.BAD_HANDLE));
    await c.unlink('e');
    await assert.rejects(c.unlink('e'), is('NOT_EXIST', ErrorCode.NOT_EXIST));
    await assert.rejects(cp.setRetention(5), is('BAD_OPERATION', ErrorCode.NOT_SUPPORTED));
    await cp.close();
    await c.close();
    await assert.rejects(
      c.list(),
      (e: unknown) => e instanceof TotemError && e.code === ErrorCode.BAD_HANDLE,
    );
  } finally {
    await d.stop();
  }
});

test('ckpt client: TRY_AGAIN typed without retry, retried by default; abort', async () => {
  const d = await CkptDaemons.start([1, 2, 3], 4);
  try {
    const c = await Ckpt.connect({ socket: d.node(1).socket });
    const cp = await c.open('q', { create: true });
    await cp.createSection('s', '');
    d.autoSettle = false;
    // One ~1 KB update per frame: 4 fit the queue.
    const big = 'z'.repeat(1000);
    const outcomes: string[] = [];
    const quick = Array.from({ length: 12 }, (_, i) =>
      cp.write('s', big, { offset: i * 1000, retry: false }).then(
        () => outcomes.push('ok'),
        (e: unknown) => outcomes.push(ais('TRY_AGAIN')(e) ? 'TRY_AGAIN' : String(e)),
      ),
    );
    // The queue (4 frames) fills while the ring is held: the rest are refused at once.
    for (let i = 0; i < 400 && outcomes.length < 8; i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(outcomes, Array(8).fill('TRY_AGAIN'));
    d.autoSettle = true;
    d.scheduleSettle();
    await Promise.all(quick);
    assert.deepEqual(outcomes.slice(8), ['ok', 'ok', 'ok', 'ok']);
    // With the default retry every write goes through (in whatever order the queue allows).
    await Promise.all(Array.from({ length: 12 }, (_, i) => cp.write('s', 'y', { offset: i })));
    assert.equal(text(await cp.read('s', { size: 13 })), `${'y'.repeat(12)}z`);
    assert.equal((await cp.status()).memoryUsed, 4000, 'the 4 accepted 1 KB writes');
    await assert.rejects(
      cp.status({ signal: AbortSignal.abort() }),
      (e: unknown) => (e as Error).name === 'AbortError',
    );
    await cp.close();
    await c.close();
  } finally {
    await d.stop();
  }
});
