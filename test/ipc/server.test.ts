import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { lstat, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { encodeFrame, IPC_MAGIC, IPC_VERSION } from '../../src/ipc/codec.js';
import { ErrorCode } from '../../src/ipc/errors.js';
import { IpcServer } from '../../src/ipc/server.js';
import { Recorder } from '../../src/recorder/recorder.js';
import { CpgOp, encodeGroupRequest, encodeMcastRequest } from '../../src/services/cpg/ipc-protocol.js';
import { CPG_SERVICE_ID } from '../../src/services/cpg/limits.js';
import { LoopbackDaemons } from './cluster.js';
import { RawClient } from './raw-client.js';

const enc = (s: string) => new TextEncoder().encode(s);

function frameOf(type: number, body: number[]): Uint8Array {
  const out = new Uint8Array(4 + 1 + body.length);
  new DataView(out.buffer).setUint32(0, 1 + body.length, true);
  out[4] = type;
  out.set(body, 5);
  return out;
}

async function farewellOf(c: RawClient): Promise<{ code: number; text: string }> {
  const f = await c.waitFor((x) => x.type === 'farewell');
  assert.equal(f.type, 'farewell');
  await c.closed;
  return { code: f.code, text: f.text };
}

/** After a faulty client, the server still serves a well-behaved one. */
async function stillServes(path: string): Promise<void> {
  const ok = await RawClient.ready(path);
  ok.request(1, CPG_SERVICE_ID, CpgOp.Groups, new Uint8Array(0));
  const r = await ok.waitFor((f) => f.type === 'reply');
  assert.equal(r.type === 'reply' && r.code, ErrorCode.OK);
  ok.socket.destroy();
  await ok.closed;
}

test('ipc: the socket gets mode 0770; a stale socket is replaced; a non-socket file is refused', async () => {
  const d = await LoopbackDaemons.start([1]);
  try {
    const st = await lstat(d.node(1).socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o770);
    const recorder = new Recorder({ slots: 1024 });
    const dir = join(d.root, 'x');
    await mkdir(dir);
    await writeFile(join(dir, 'totem.sock'), 'not a socket');
    await assert.rejects(IpcServer.listen({ dir, recorder, nodeId: 1 }), /not a socket/);
    // A live daemon's socket is not taken over.
    await assert.rejects(
      IpcServer.listen({ dir: d.node(1).dir, recorder, nodeId: 1 }),
      /another daemon is listening/,
    );
    // A socket left behind by a crashed daemon (killed with SIGKILL) is replaced.
    const stale = join(d.node(1).dir, 'second.sock');
    const crashed = spawn(process.execPath, [
      '-e',
      `require('node:net').createServer().listen(${JSON.stringify(stale)})`,
    ]);
    await waitUntil(() => existsSync(stale));
    crashed.kill('SIGKILL');
    await new Promise((r) => crashed.once('exit', r));
    assert.ok((await lstat(stale)).isSocket(), 'the crashed listener left its socket file');
    const third = await IpcServer.listen({
      dir: d.node(1).dir,
      socketName: 'second.sock',
      recorder,
      nodeId: 1,
      mode: 0o700,
    });
    assert.equal((await lstat(third.path)).mode & 0o777, 0o700);
    await third.close();
  } finally {
    await d.stop();
  }
});

test('ipc: a request before the handshake gets PROTOCOL and its connection is closed', async () => {
  const d = await LoopbackDaemons.start([1]);
  try {
    const c = await RawClient.open(d.node(1).socket);
    c.request(1, CPG_SERVICE_ID, CpgOp.Join, encodeGroupRequest(enc('g')));
    const f = await farewellOf(c);
    assert.equal(f.code, ErrorCode.PROTOCOL);
    assert.match(f.text, /before the handshake/);
    await stillServes(d.node(1).socket);
    await waitUntil(() => d.node(1).server.stats.closedByReason.BeforeHandshake === 1);
  } finally {
    await d.stop();
  }
});

test('ipc: an oversized frame is refused from its length alone', async () => {
  const d = await LoopbackDaemons.start([1], { maxFrame: 4096 });
  try {
    const c = await RawClient.ready(d.node(1).socket);
    const head = new Uint8Array(4);
    new DataView(head.buffer).setUint32(0, 4097, true);
    c.send(head);
    const f = await farewellOf(c);
    assert.equal(f.code, ErrorCode.PROTOCOL);
    await waitUntil(() => d.node(1).server.stats.closedByReason.OversizedFrame === 1);
    await stillServes(d.node(1).socket);
  } finally {
    await d.stop();
  }
});

test('ipc: truncated frames: a short body is malformed; a half-sent frame then hang-up leaks nothing', async () => {
  const d = await LoopbackDaemons.start([1]);
  try {
    // A HELLO whose length prefix covers only part of its fields.
    const c = await RawClient.open(d.node(1).socket);
    c.send(frameOf(1, [0x54, 0x4f, 0x54]));
    assert.equal((await farewellOf(c)).code, ErrorCode.PROTOCOL);
    // A request frame cut short in the middle of its header.
    const r = await RawClient.ready(d.node(1).socket);
    r.send(frameOf(3, [1, 0, 0]));
    assert.equal((await farewellOf(r)).code, ErrorCode.PROTOCOL);
    // Half of a frame, then the client goes away.
    const h = await RawClient.ready(d.node(1).socket);
    const whole = encodeFrame({
      type: 'request',
      reqId: 7,
      service: 2,
      op: 1,
      payload: encodeGroupRequest(enc('g')),
    });
    h.send(whole.subarray(0, 6));
    h.socket.destroy();
    await h.closed;
    await stillServes(d.node(1).socket);
    await waitUntil(() => d.node(1).server.connectionCount === 0);
    assert.equal(d.node(1).server.stats.closedByReason.BadFrame, 2);
  } finally {
    await d.stop();
  }
});

test('ipc: unknown frame type, unknown service, unknown cpg request, wrong version', async () => {
  const d = await LoopbackDaemons.start([1]);
  const path = d.node(1).socket;
  try {
    const a = await RawClient.ready(path);
    a.send(frameOf(99, [1, 2, 3]));
    assert.equal((await farewellOf(a)).code, ErrorCode.PROTOCOL);

    const b = await RawClient.ready(path);
    b.request(5, 77, 1, new Uint8Array(0));
    const reply = await b.waitFor((f) => f.type === 'reply');
    assert.equal(reply.type === 'reply' && reply.code, ErrorCode.PROTOCOL);
    assert.equal((await farewellOf(b)).code, ErrorCode.PROTOCOL);

    const c = await RawClient.ready(path);
    c.request(6, CPG_SERVICE_ID, 200, new Uint8Array(0));
    assert.equal((await farewellOf(c)).code, ErrorCode.PROTOCOL);

    const m = await RawClient.ready(path);
    m.request(8, CPG_SERVICE_ID, CpgOp.Join, Uint8Array.of(200, 1, 2));
    assert.equal((await farewellOf(m)).code, ErrorCode.PROTOCOL, 'a malformed cpg payload');

    const v = await RawClient.open(path);
    v.send(
      encodeFrame({ type: 'hello', magic: IPC_MAGIC, version: IPC_VERSION + 1, pid: 1, name: 'future' }),
    );
    assert.equal((await farewellOf(v)).code, ErrorCode.NOT_SUPPORTED);
    await stillServes(path);
  } finally {
    await d.stop();
  }
});

test('ipc: a client that stops reading is dropped at the queue bound, recorded, and its memberships end', async () => {
  const d = await LoopbackDaemons.start([1, 2], { maxQueuedBytes: 256 * 1024 });
  try {
    const slow = await RawClient.ready(d.node(1).socket, 111);
    slow.request(1, CPG_SERVICE_ID, CpgOp.Join, encodeGroupRequest(enc('g')));
    await slow.waitFor((f) => f.type === 'reply');
    slow.socket.pause();
    const fast = await RawClient.ready(d.node(2).socket, 222);
    fast.request(1, CPG_SERVICE_ID, CpgOp.Join, encodeGroupRequest(enc('g')));
    await fast.waitFor((f) => f.type === 'reply');
    const payload = new Uint8Array(16 * 1024);
    let reqId = 10;
    for (let i = 0; i < 400 && d.node(1).server.stats.closedByReason.SlowReader === undefined; i++) {
      fast.request(reqId++, CPG_SERVICE_ID, CpgOp.Mcast, encodeMcastRequest(enc('g'), 0, payload));
      await new Promise((r) => setTimeout(r, 2));
      fast.frames.length = 0;
    }
    assert.equal(d.node(1).server.stats.closedByReason.SlowReader, 1);
    await waitUntil(() => d.node(2).cpg.members(enc('g')).length === 1);
    assert.deepEqual(d.node(1).cpg.members(enc('g')), [{ nodeId: 2, pid: 222, reason: 0 }]);
    slow.socket.destroy();
    fast.socket.destroy();
  } finally {
    await d.stop();
  }
});

test('ipc: a client that dies leaves nothing behind; other members see PROCDOWN', async () => {
  const d = await LoopbackDaemons.start([1, 2]);
  try {
    const dying = await RawClient.ready(d.node(1).socket, 111);
    const watcher = await RawClient.ready(d.node(2).socket, 222);
    watcher.request(1, CPG_SERVICE_ID, CpgOp.Join, encodeGroupRequest(enc('g')));
    await watcher.waitFor((f) => f.type === 'reply');
    dying.request(1, CPG_SERVICE_ID, CpgOp.Join, encodeGroupRequest(enc('g')));
    dying.request(2, CPG_SERVICE_ID, CpgOp.Join, encodeGroupRequest(enc('h')));
    await dying.waitFor((f) => f.type === 'reply' && f.reqId === 2);
    await waitUntil(() => d.node(2).cpg.members(enc('g')).length === 2);
    // Dies with a request half-sent.
    dying.send(
      encodeFrame({ type: 'request', reqId: 3, service: 2, op: 3, payload: new Uint8Array(100) }).subarray(
        0,
        20,
      ),
    );
    dying.socket.destroy();
    await waitUntil(
      () => d.node(2).cpg.members(enc('g')).length === 1 && d.node(1).cpg.groups().length === 1,
    );
    assert.equal(d.node(1).server.connectionCount, 0);
    await waitUntil(() => watcher.frames.filter((f) => f.type === 'event').length >= 3);
    assert.equal(d.node(1).cpg.deferredCount, 0);
    watcher.socket.destroy();
  } finally {
    await d.stop();
  }
});

test('ipc: a silent connection is closed after the handshake timeout; connections past the bound are refused', async () => {
  const d = await LoopbackDaemons.start([1], { handshakeTimeoutMs: 100, maxConnections: 2 });
  try {
    const path = d.node(1).socket;
    const silent = await RawClient.open(path);
    const f = await farewellOf(silent);
    assert.equal(f.code, ErrorCode.PROTOCOL);
    assert.match(f.text, /no handshake/);
    const a = await RawClient.ready(path);
    const b = await RawClient.ready(path);
    const c = await RawClient.open(path);
    assert.equal((await farewellOf(c)).code, ErrorCode.NO_MEMORY);
    a.socket.destroy();
    await a.closed;
    await waitUntil(() => d.node(1).server.connectionCount === 1);
    await stillServes(path);
    b.socket.destroy();
    await waitUntil(() => d.node(1).server.stats.closedByReason.TooManyConnections === 1);
    assert.equal(d.node(1).server.stats.closedByReason.HandshakeTimeout, 1);
  } finally {
    await d.stop();
  }
});

test('ipc: a service may answer later; an answer after the client left is dropped', async () => {
  const d = await LoopbackDaemons.start([1]);
  const answers: ((r: { code: 0; payload: Uint8Array }) => void)[] = [];
  const seen: string[] = [];
  d.node(1).server.register({
    id: 90,
    name: 'later',
    request: (_client, op, payload, answer) => {
      if (op === 1) return { code: ErrorCode.OK, payload: payload.slice() };
      answers.push(answer);
      return undefined;
    },
    disconnected: (client) => {
      seen.push(`gone ${client.pid}`);
    },
  });
  try {
    const c = await RawClient.ready(d.node(1).socket, 9);
    c.request(1, 90, 2, new Uint8Array(0));
    c.request(2, 90, 1, Uint8Array.of(7));
    const first = await c.waitFor((f) => f.type === 'reply');
    assert.equal(first.type === 'reply' && first.reqId, 2, 'the immediate answer overtakes the deferred one');
    answers[0]!({ code: ErrorCode.OK, payload: Uint8Array.of(1) });
    const later = await c.waitFor((f) => f.type === 'reply' && f.reqId === 1);
    assert.deepEqual(later.type === 'reply' && [...later.payload], [1]);
    assert.throws(() => answers[0]!({ code: ErrorCode.OK, payload: Uint8Array.of(1) }), /answered twice/);
    c.request(3, 90, 2, new Uint8Array(0));
    await waitUntil(() => answers.length === 2);
    c.socket.destroy();
    await waitUntil(() => seen.length === 1);
    answers[1]!({ code: ErrorCode.OK, payload: new Uint8Array(0) });
    assert.deepEqual(seen, ['gone 9']);
  } finally {
    await d.stop();
  }
});

async function waitUntil(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
