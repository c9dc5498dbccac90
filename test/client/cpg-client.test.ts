import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Cpg, type CpgConfigurationChange, type CpgMessage, ErrorCode, TotemError } from '../../src/index.js';
import { LoopbackDaemons } from '../ipc/cluster.js';

async function take<T>(it: AsyncIterator<T>, n: number): Promise<T[]> {
  const out: T[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

const isCode = (code: number) => (err: unknown) => err instanceof TotemError && err.code === code;

test('client: join, send, messages in one order on every node, changes, members, groups, local', async () => {
  const d = await LoopbackDaemons.start([1, 2, 3]);
  try {
    const a = await Cpg.connect({ socket: d.node(1).socket, pid: 100 });
    const b = await Cpg.connect({ socket: d.node(3).socket, pid: 300 });
    assert.equal(a.nodeId, 1);
    assert.equal(b.nodeId, 3);
    const aMsgs = a.messages('chat');
    const bMsgs = b.messages('chat');
    const bChanges = b.changes('chat');
    await b.join('chat');
    await a.join('chat');
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 25; i++) {
      sends.push(a.send('chat', `a${i}`));
      sends.push(b.send('chat', new TextEncoder().encode(`b${i}`), { guarantee: i % 2 ? 'safe' : 'agreed' }));
    }
    await Promise.all(sends);
    const seenA = (await take(aMsgs, 50)).map(
      (m: CpgMessage) => `${m.nodeId}/${m.pid} ${m.text()} ${m.guarantee}`,
    );
    const seenB = (await take(bMsgs, 50)).map(
      (m: CpgMessage) => `${m.nodeId}/${m.pid} ${m.text()} ${m.guarantee}`,
    );
    assert.deepEqual(seenA, seenB);
    assert.equal(seenA.filter((s) => s.startsWith('1/100 a')).length, 25);
    assert.ok(seenA.includes('3/300 b1 safe'));
    const changes = (await take(bChanges, 2)) as CpgConfigurationChange[];
    assert.deepEqual(
      changes.map((c) => c.joined.map((m) => `${m.nodeId}/${m.pid}:${m.reason}`)),
      [['3/300:join'], ['1/100:join']],
    );
    assert.deepEqual(
      changes[1]!.members.map((m) => `${m.nodeId}/${m.pid}`),
      ['1/100', '3/300'],
    );
    assert.deepEqual(await a.members('chat'), [
      { nodeId: 1, pid: 100, reason: 'member' },
      { nodeId: 3, pid: 300, reason: 'member' },
    ]);
    assert.deepEqual(
      (await b.listGroups()).map((g) => g.group),
      ['chat'],
    );
    const local = await a.local();
    assert.equal(local.nodeId, 1);
    assert.deepEqual(local.ring?.members, [1, 2, 3]);
    await aMsgs.return?.();
    await a.close();
    await b.close();
  } finally {
    await d.stop();
  }
});

test('client: typed errors', async () => {
  const d = await LoopbackDaemons.start([1]);
  try {
    const a = await Cpg.connect({ socket: d.node(1).socket });
    await assert.rejects(a.send('nope', 'x'), isCode(ErrorCode.NOT_EXIST));
    await assert.rejects(a.leave('nope'), isCode(ErrorCode.NOT_EXIST));
    await assert.rejects(a.join('x'.repeat(129)), isCode(ErrorCode.NAME_TOO_LONG));
    await assert.rejects(a.join(''), isCode(ErrorCode.INVALID_PARAM));
    await a.join('g');
    await assert.rejects(
      a.join('g'),
      (e: unknown) => isCode(ErrorCode.EXIST)(e) && (e as TotemError).codeName === 'EXIST',
    );
    await a.close();
    await assert.rejects(a.join('h'), isCode(ErrorCode.BAD_HANDLE));
    await assert.rejects(Cpg.connect({ socket: join(d.root, 'missing.sock') }), isCode(ErrorCode.LIBRARY));
  } finally {
    await d.stop();
  }
});

test('client: TRY_AGAIN during a sync round is retried for the caller (or returned when retry is off)', async () => {
  const d = await LoopbackDaemons.start([1, 2]);
  try {
    const a = await Cpg.connect({ socket: d.node(1).socket });
    await a.join('g');
    const msgs = a.messages('g');
    const ring = d.ring.currentRing;
    for (const id of [1, 2]) d.node(id).cpg.syncInit({ ringId: ring, members: [1, 2], transitional: [1, 2] });
    await assert.rejects(a.send('g', 'now', { retry: false }), isCode(ErrorCode.TRY_AGAIN));
    let done = false;
    const pending = a.send('g', 'later').then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 30));
    assert.equal(done, false, 'still retrying while the round runs');
    for (const id of [1, 2]) d.node(id).cpg.syncAbort();
    d.sync();
    await pending;
    assert.equal((await take(msgs, 1))[0]!.text(), 'later');
    await assert.rejects(
      a.send('g', 'x', { retry: { attempts: 2 }, signal: AbortSignal.abort() }),
      (e: unknown) => (e as Error).name === 'AbortError',
    );
    await a.close();
  } finally {
    await d.stop();
  }
});

test('client: a send the ring cannot take answers TRY_AGAIN; retried, it goes out once the ring moves', async () => {
  const d = await LoopbackDaemons.start([1, 2], {}, { queueCapacity: 4 });
  try {
    const a = await Cpg.connect({ socket: d.node(1).socket });
    await a.join('g');
    await new Promise((r) => setTimeout(r, 20));
    const msgs = a.messages('g');
    d.autoSettle = false;
    const big = new Uint8Array(3000);
    let refused: unknown;
    for (let i = 0; i < 10 && refused === undefined; i++) {
      await a.send('g', big, { retry: false }).catch((e: unknown) => {
        refused = e;
      });
    }
    assert.ok(isCode(ErrorCode.TRY_AGAIN)(refused), `expected TRY_AGAIN, got ${String(refused)}`);
    const retried = a.send('g', 'small but queued behind', { retry: { attempts: 1000, maxDelayMs: 5 } });
    await new Promise((r) => setTimeout(r, 20));
    d.autoSettle = true;
    d.ring.settle();
    await retried;
    d.scheduleSettle();
    const texts: string[] = [];
    for await (const m of msgs) {
      texts.push(m.data.length === 3000 ? 'big' : m.text());
      if (m.data.length !== 3000) break;
    }
    assert.equal(texts.at(-1), 'small but queued behind');
    await a.close();
  } finally {
    await d.stop();
  }
});

test('client: with retries on, a send the ring cannot take is held by the daemon (no polling) and keeps its order', async () => {
  const d = await LoopbackDaemons.start([1, 2], {}, { queueCapacity: 4 });
  const a = await Cpg.connect({ socket: d.node(1).socket, reconnect: false });
  try {
    await a.join('g');
    await new Promise((r) => setTimeout(r, 20));
    const msgs = a.messages('g');
    d.autoSettle = false;
    const requestsBefore = d.node(1).server.stats.requests;
    let resolved = 0;
    const sends = Array.from({ length: 8 }, (_, i) => {
      const data = new Uint8Array(3000);
      data[0] = i;
      return a.send('g', data).then(() => {
        resolved++;
      });
    });
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(resolved < 8, 'a stalled ring cannot have taken all eight 3000-byte sends');
    // Each send is one request: the held ones were not refused and polled again.
    assert.equal(d.node(1).server.stats.requests - requestsBefore, 8);
    d.autoSettle = true;
    d.ring.settle();
    d.scheduleSettle();
    await Promise.all(sends);
    const order: number[] = [];
    for await (const m of msgs) {
      order.push(m.data[0]!);
      if (order.length === 8) break;
    }
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7]);
  } finally {
    await a.close();
    await d.stop();
  }
});

test('client: past its high-water mark a client stops reading, resumes as its iterator drains, loses nothing', async () => {
  const d = await LoopbackDaemons.start([1, 2]);
  try {
    const reader = await Cpg.connect({ socket: d.node(1).socket, highWaterMark: 8 });
    const writer = await Cpg.connect({ socket: d.node(2).socket });
    const msgs = reader.messages('g');
    await reader.join('g');
    await writer.join('g');
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) sends.push(writer.send('g', `m${i}`));
    await Promise.all(sends);
    await new Promise((r) => setTimeout(r, 50));
    const got = await take(msgs, 200);
    assert.deepEqual(
      got.map((m) => m.text()),
      Array.from({ length: 200 }, (_, i) => `m${i}`),
    );
    await reader.close();
    await writer.close();
  } finally {
    await d.stop();
  }
});

test('client: a client that stops draining is dropped by the daemon; it notices when it reads again', async () => {
  const d = await LoopbackDaemons.start([1, 2], { maxQueuedBytes: 64 * 1024 });
  try {
    const reader = await Cpg.connect({
      socket: d.node(1).socket,
      pid: 1,
      highWaterMark: 4,
      reconnect: { initialDelayMs: 5 },
    });
    const writer = await Cpg.connect({ socket: d.node(2).socket, pid: 2 });
    const msgs = reader.messages('g');
    await reader.join('g');
    await writer.join('g');
    const disconnected = new Promise<TotemError>((r) => reader.once('disconnect', r));
    const reconnected = new Promise<{ groups: string[] }>((r) => reader.once('reconnect', r));
    const big = new Uint8Array(8 * 1024);
    let sent = 0;
    for (; sent < 400 && d.node(1).server.stats.closedByReason.SlowReader === undefined; sent++) {
      big[0] = sent % 256;
      await writer.send('g', big);
      await new Promise((r) => setTimeout(r, 1));
    }
    assert.equal(d.node(1).server.stats.closedByReason.SlowReader, 1);
    // Paused, the client cannot see the end of its socket; reading again, it does.
    const got: number[] = [];
    const drain = (async () => {
      for await (const m of msgs) got.push(m.data[0]!);
    })();
    assert.equal((await disconnected).code, ErrorCode.LIBRARY);
    assert.deepEqual((await reconnected).groups, ['g']);
    assert.ok(got.length > 0 && got.length < sent);
    assert.deepEqual(
      got,
      got.map((_, i) => i % 256),
      'what arrived before the drop is a gap-free prefix',
    );
    await reader.close();
    await drain;
    await writer.close();
  } finally {
    await d.stop();
  }
});

test('client: AbortSignal ends an iterator; close() ends the others normally', async () => {
  const d = await LoopbackDaemons.start([1]);
  try {
    const a = await Cpg.connect({ socket: d.node(1).socket });
    await a.join('g');
    const ac = new AbortController();
    const aborted = a.messages('g', { signal: ac.signal });
    const plain = a.messages('g');
    await a.send('g', 'one');
    assert.equal((await aborted.next()).value?.text(), 'one');
    ac.abort();
    await assert.rejects(aborted.next(), (e: unknown) => (e as Error).name === 'AbortError');
    assert.equal((await plain.next()).value?.text(), 'one');
    const closed = new Promise((r) => a.once('close', r));
    await a.close();
    assert.equal(await closed, undefined);
    assert.deepEqual(await plain.next(), { value: undefined, done: true });
  } finally {
    await d.stop();
  }
});

test('client: when the daemon restarts the client reconnects, joins its groups again and says so', async () => {
  const d = await LoopbackDaemons.start([1, 2]);
  try {
    const a = await Cpg.connect({ socket: d.node(1).socket, pid: 100, reconnect: { initialDelayMs: 10 } });
    const w = await Cpg.connect({ socket: d.node(2).socket, pid: 200 });
    await w.join('g');
    await a.join('g');
    const wChanges = w.changes('g');
    const disconnected = new Promise<TotemError>((r) => a.once('disconnect', r));
    const reconnected = new Promise<{ groups: string[] }>((r) => a.once('reconnect', r));
    await d.restartServer(1);
    assert.equal((await disconnected).code, ErrorCode.LIBRARY);
    assert.deepEqual((await reconnected).groups, ['g']);
    const seen = await take(wChanges, 3);
    assert.deepEqual(
      seen.map((c) => [...c.left, ...c.joined].map((m) => `${m.nodeId}/${m.pid}:${m.reason}`).join()),
      ['1/100:join', '1/100:proc-down', '1/100:join'],
    );
    const msgs = w.messages('g');
    await a.send('g', 'back');
    assert.equal((await msgs.next()).value?.text(), 'back');
    await a.close();
    await w.close();
  } finally {
    await d.stop();
  }
});

test('client: with reconnect off, losing the daemon closes the client and fails its iterators', async () => {
  const d = await LoopbackDaemons.start([1]);
  try {
    const a = await Cpg.connect({ socket: d.node(1).socket, reconnect: false });
    await a.join('g');
    const it = a.messages('g');
    const closed = new Promise<TotemError | undefined>((r) => a.once('close', r));
    await d.restartServer(1);
    assert.equal((await closed)?.code, ErrorCode.LIBRARY);
    await assert.rejects(it.next(), isCode(ErrorCode.LIBRARY));
    await assert.rejects(a.send('g', 'x'), isCode(ErrorCode.LIBRARY));
  } finally {
    await d.stop();
  }
});
