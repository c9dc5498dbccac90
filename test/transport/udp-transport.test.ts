import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { BROADCAST } from '../../src/core/io.js';
import { EV } from '../../src/recorder/events/index.js';
import { SLOT_WORDS, SLOTS_OFFSET } from '../../src/recorder/format.js';
import { Recorder } from '../../src/recorder/recorder.js';
import { Envelope } from '../../src/transport/crypto.js';
import { Partition } from '../../src/transport/partition.js';
import { TransportError, type TransportPeer, UdpTransport } from '../../src/transport/udp-transport.js';
import { canBind, envelopeFor, freePorts, openCluster, sendRaw, settle, waitFor } from './helpers.js';

const T = { timeout: 15_000 };

async function loopbackPeers(n: number): Promise<TransportPeer[]> {
  const ports = await freePorts(n, '127.0.0.1');
  return ports.map((port, i) => ({ nodeId: i + 1, address: '127.0.0.1', port }));
}

function eventIds(r: Recorder): number[] {
  const words = new Int32Array(r.buffer, SLOTS_OFFSET, r.slotCount * SLOT_WORDS);
  const out: number[] = [];
  for (let seq = 1; seq <= r.lastSeq; seq++) out.push(words[(seq & (r.slotCount - 1)) * SLOT_WORDS + 1]!);
  return out;
}

for (const cipher of ['aes256', 'chacha20', 'none'] as const) {
  test(`udpu ${cipher}: unicast and broadcast on 127.0.0.1 with distinct ports`, T, async () => {
    const c = await openCluster({ peers: await loopbackPeers(3), cipher });
    try {
      const t1 = c.transports.get(1)!;
      t1.send(2, Buffer.from('to two'));
      t1.send(BROADCAST, Buffer.from('to all'));
      await waitFor(() => c.inbox.get(2)!.length === 2 && c.inbox.get(3)!.length === 1, 3000, 'deliveries');
      await settle(50);
      assert.deepEqual(
        c.inbox.get(2)!.map((r) => [r.from, r.payload.toString()]),
        [
          [1, 'to two'],
          [1, 'to all'],
        ],
      );
      assert.deepEqual(
        c.inbox.get(3)!.map((r) => [r.from, r.payload.toString()]),
        [[1, 'to all']],
      );
      assert.equal(c.inbox.get(1)!.length, 0, 'BROADCAST must not reach the sender');
      const s1 = t1.stats();
      assert.equal(s1.sentPayloads, 2);
      assert.equal(s1.sentDatagrams, 3);
      assert.equal(s1.sendErrors, 0);
      assert.equal(c.transports.get(2)!.stats().received, 2);
      const expectedMax = 1500 - 28 - (cipher === 'none' ? 8 : 36);
      assert.equal(t1.maxPayload, expectedMax);
    } finally {
      await c.close();
    }
  });
}

test('udpu on distinct loopback addresses sharing one port, as corosync nodes do', T, async (t) => {
  if (!(await canBind('127.0.0.2')) || !(await canBind('127.0.0.3'))) {
    t.skip('127.0.0.2/127.0.0.3 cannot be bound here');
    return;
  }
  const [port] = await freePorts(1, '127.0.0.2');
  const peers = [
    { nodeId: 11, address: '127.0.0.2', port: port! },
    { nodeId: 12, address: '127.0.0.3', port: port! },
  ];
  const c = await openCluster({ peers, cipher: 'aes256' });
  try {
    c.transports.get(11)!.send(BROADCAST, Buffer.from('a'));
    c.transports.get(12)!.send(11, Buffer.from('b'));
    await waitFor(() => c.inbox.get(11)!.length === 1 && c.inbox.get(12)!.length === 1);
    assert.deepEqual(c.inbox.get(11)![0]!.from, 12);
    assert.deepEqual(c.inbox.get(12)![0]!.from, 11);
  } finally {
    await c.close();
  }
});

test('udpu over IPv6 ::1', T, async (t) => {
  if (!(await canBind('::1'))) {
    t.skip('IPv6 ::1 is not available on this kernel');
    return;
  }
  const ports = await freePorts(2, '::1');
  const peers = ports.map((port, i) => ({ nodeId: i + 1, address: '::1', port }));
  const c = await openCluster({ peers, cipher: 'chacha20' });
  try {
    c.transports.get(1)!.send(BROADCAST, Buffer.from('v6'));
    await waitFor(() => c.inbox.get(2)!.length === 1);
    assert.equal(c.inbox.get(2)![0]!.payload.toString(), 'v6');
    assert.equal(c.transports.get(1)!.maxPayload, 1500 - 48 - 36);
  } finally {
    await c.close();
  }
});

/** Whether a multicast datagram sent on 127.0.0.1 comes back here (the kernel and netns decide). */
async function multicastWorks(group: string, port: number): Promise<string | undefined> {
  const r = createSocket({ type: 'udp4', reuseAddr: true });
  const s = createSocket('udp4');
  try {
    await new Promise<void>((res, rej) => {
      r.once('error', rej);
      r.bind(port, group, () => res());
    });
    r.addMembership(group, '127.0.0.1');
    await new Promise<void>((res, rej) => {
      s.once('error', rej);
      s.bind(0, '127.0.0.1', () => res());
    });
    s.setMulticastInterface('127.0.0.1');
    s.setMulticastLoopback(true);
    const got = new Promise<boolean>((res) => {
      r.once('message', () => res(true));
      setTimeout(() => res(false), 500);
    });
    s.send('probe', port, group);
    return (await got) ? undefined : 'a multicast probe on 127.0.0.1 was not looped back';
  } catch (err) {
    return `multicast on loopback is refused here (${(err as NodeJS.ErrnoException).code ?? String(err)})`;
  } finally {
    await Promise.all([r, s].map((x) => new Promise<void>((res) => x.close(() => res()))));
  }
}

test('udp multicast on loopback: one datagram to the group reaches every other node', T, async (t) => {
  const group = '239.192.77.1';
  const [mport] = await freePorts(1, '127.0.0.1');
  const why = await multicastWorks(group, mport!);
  if (why) {
    t.skip(why);
    return;
  }
  const peers = await loopbackPeers(3);
  const c = await openCluster({
    peers,
    mode: 'udp',
    multicast: { group, port: mport!, ttl: 0 },
    cipher: 'aes256',
  });
  try {
    const t1 = c.transports.get(1)!;
    t1.send(BROADCAST, Buffer.from('group'));
    t1.send(3, Buffer.from('direct'));
    await waitFor(
      () => c.inbox.get(2)!.length === 1 && c.inbox.get(3)!.length === 2,
      3000,
      'multicast deliveries',
    );
    await waitFor(() => t1.stats().selfEchoes === 1, 1000, 'own echo');
    assert.equal(c.inbox.get(1)!.length, 0);
    assert.equal(t1.stats().sentDatagrams, 2, 'the group is one datagram, the unicast another');
    assert.deepEqual(
      c.inbox
        .get(3)!
        .map((r) => r.payload.toString())
        .sort(),
      ['direct', 'group'],
    );
  } finally {
    await c.close();
  }
});

test('refused datagrams are counted by reason, recorded, and never reach onPacket', T, async () => {
  const nodes = await loopbackPeers(2);
  const rec = new Recorder({ slots: 1024 });
  const got: number[] = [];
  const t1 = await UdpTransport.open({
    mode: 'udpu',
    localNodeId: 1,
    nodes,
    envelope: Envelope.sealed({
      cipher: 'aes256',
      key: randomBytes(64),
      clusterName: 'test',
      localNodeId: 1,
      acceptSender: (id) => id === 1 || id === 2,
    }),
    onPacket: (from) => got.push(from),
    recorder: rec,
  });
  try {
    const me = nodes[0]!;
    const otherKey = Envelope.sealed({
      cipher: 'aes256',
      key: randomBytes(64),
      clusterName: 'test',
      localNodeId: 2,
    });
    await sendRaw(Buffer.from([1, 2, 3]), me, '127.0.0.1'); // truncated
    await sendRaw(Buffer.from('GET / HTTP/1.1\r\n\r\n'), me, '127.0.0.1'); // bad magic
    await sendRaw(otherKey.seal(Buffer.from('x')), me, '127.0.0.1'); // auth-failed
    await sendRaw(envelopeFor(2, 'none').seal(Buffer.from('x')), me, '127.0.0.1'); // cipher-mismatch
    await sendRaw(envelopeFor(9, 'aes256').seal(Buffer.from('x')), me, '127.0.0.1'); // unknown-sender
    await waitFor(() => t1.stats().droppedTotal === 5, 3000, 'five drops');
    assert.deepEqual(t1.stats().dropped, {
      truncated: 1,
      'bad-magic': 1,
      'auth-failed': 1,
      'cipher-mismatch': 1,
      'unknown-sender': 1,
    });
    assert.deepEqual(got, []);
    const ids = eventIds(rec);
    assert.equal(ids.filter((id) => id === EV.TRANSPORT_DROP).length, 5);
    assert.ok(ids.includes(EV.TRANSPORT_OPEN));
    assert.ok(ids.includes(EV.TRANSPORT_BUFFERS));
  } finally {
    await t1.close();
  }
});

test('a valid packet from the wrong source address is refused (address-mismatch)', T, async (t) => {
  if (!(await canBind('127.0.0.2'))) {
    t.skip('127.0.0.2 cannot be bound here');
    return;
  }
  const [p1, p2] = await freePorts(2, '127.0.0.1');
  const nodes = [
    { nodeId: 1, address: '127.0.0.1', port: p1! },
    { nodeId: 2, address: '127.0.0.2', port: p2! },
  ];
  const got: number[] = [];
  const t1 = await UdpTransport.open({
    mode: 'udpu',
    localNodeId: 1,
    nodes,
    envelope: envelopeFor(1, 'aes256'),
    onPacket: (from) => got.push(from),
  });
  try {
    await sendRaw(envelopeFor(2, 'aes256').seal(Buffer.from('spoof')), nodes[0]!, '127.0.0.1');
    await waitFor(() => t1.stats().droppedTotal === 1);
    assert.deepEqual(t1.stats().dropped, { 'address-mismatch': 1 });
    await sendRaw(envelopeFor(2, 'aes256').seal(Buffer.from('real')), nodes[0]!, '127.0.0.2');
    await waitFor(() => got.length === 1);
    assert.deepEqual(got, [2]);
  } finally {
    await t1.close();
  }
});

test('send errors are counted and recorded, and the transport keeps working', T, async () => {
  const rec = new Recorder({ slots: 1024 });
  const peers = await loopbackPeers(2);
  const recorders = new Map([[1, rec]]);
  const c = await openCluster({ peers, cipher: 'none', recorders });
  try {
    const t1 = c.transports.get(1)!;
    t1.send(2, new Uint8Array(70_000)); // larger than any UDP datagram: EMSGSIZE
    t1.send(42, Buffer.from('nobody')); // not a configured node
    await waitFor(() => t1.stats().sendErrors === 2, 3000, 'two send errors');
    assert.match(t1.stats().lastError ?? '', /^send to (2: EMSGSIZE|42: unknown-node)$/);
    t1.send(2, Buffer.from('still fine'));
    await waitFor(() => c.inbox.get(2)!.length === 1);
    assert.equal(c.inbox.get(2)![0]!.payload.toString(), 'still fine');
    assert.equal(eventIds(rec).filter((id) => id === EV.TRANSPORT_SEND_ERROR).length, 2);
  } finally {
    await c.close();
  }
});

test('a peer that is down costs nothing but silence', T, async () => {
  const peers = await loopbackPeers(3);
  const c = await openCluster({ peers, cipher: 'aes256' });
  await c.transports.get(3)!.close();
  try {
    const t1 = c.transports.get(1)!;
    for (let i = 0; i < 20; i++) t1.send(BROADCAST, Buffer.from(`m${i}`));
    await waitFor(() => c.inbox.get(2)!.length === 20);
    assert.equal(t1.stats().sentDatagrams, 40);
  } finally {
    await c.close();
  }
});

test('partition filter: groups only hear each other until healed', T, async () => {
  const partition = new Partition([[1, 2], [3]]);
  const c = await openCluster({ peers: await loopbackPeers(3), cipher: 'none', filter: partition.filter });
  try {
    c.transports.get(1)!.send(BROADCAST, Buffer.from('split'));
    c.transports.get(3)!.send(BROADCAST, Buffer.from('alone'));
    await waitFor(() => c.inbox.get(2)!.length === 1);
    await settle(100);
    assert.equal(c.inbox.get(3)!.length, 0);
    assert.equal(c.inbox.get(1)!.length, 0);
    assert.equal(c.transports.get(1)!.stats().filteredOut, 1);
    assert.equal(c.transports.get(3)!.stats().filteredOut, 2);
    partition.heal();
    c.transports.get(3)!.send(BROADCAST, Buffer.from('healed'));
    await waitFor(() => c.inbox.get(1)!.length === 1 && c.inbox.get(2)!.length === 2);
    assert.throws(() => partition.split([[1], [1, 2]]), /node 1 is in two groups/);
  } finally {
    await c.close();
  }
});

test('eight windows of 50 packets of 1400 bytes arrive whole with the configured buffers', T, async () => {
  const c = await openCluster({ peers: await loopbackPeers(2), cipher: 'aes256' });
  try {
    const t1 = c.transports.get(1)!;
    // Eight token rotations' worth: a full window (50) per rotation, back to back.
    const n = 400;
    for (let i = 0; i < n; i++) {
      t1.send(2, randomBytes(1400));
      if (i % 50 === 49) await settle(1);
    }
    await waitFor(() => c.inbox.get(2)!.length === n, 5000, `${n} packets`);
    assert.ok(t1.stats().sendBuffer >= 256 * 1024, `send buffer ${t1.stats().sendBuffer}`);
  } finally {
    await c.close();
  }
});

test('close: idempotent, frees the port, later sends are ignored and counted', T, async () => {
  const peers = await loopbackPeers(2);
  const c = await openCluster({ peers, cipher: 'none' });
  const t1 = c.transports.get(1)!;
  await c.close();
  await t1.close();
  t1.send(2, Buffer.from('late'));
  assert.equal(t1.stats().sendsAfterClose, 1);
  const again = await openCluster({ peers, cipher: 'none' });
  await again.close();
});

test('configuration problems are TransportErrors', T, async () => {
  const peers = await loopbackPeers(2);
  const base = { mode: 'udpu' as const, nodes: peers, onPacket: () => undefined };
  await assert.rejects(
    UdpTransport.open({ ...base, localNodeId: 5, envelope: envelopeFor(5, 'none') }),
    (e: unknown) => e instanceof TransportError && e.message === 'local node 5 is not in the node list',
  );
  await assert.rejects(
    UdpTransport.open({ ...base, localNodeId: 1, envelope: envelopeFor(2, 'none') }),
    (e: unknown) => e instanceof TransportError && e.message === 'the envelope is for node 2, not 1',
  );
  await assert.rejects(
    UdpTransport.open({ ...base, mode: 'udp', localNodeId: 1, envelope: envelopeFor(1, 'none') }),
    (e: unknown) => e instanceof TransportError && e.message === 'udp mode needs multicast options',
  );
  await assert.rejects(
    UdpTransport.open({
      ...base,
      nodes: [peers[0]!, { nodeId: 2, address: '::1', port: 5 }],
      localNodeId: 1,
      envelope: envelopeFor(1, 'none'),
    }),
    (e: unknown) => e instanceof TransportError && e.message === 'node 2 (::1) is not IPv4 like this node',
  );
  const first = await UdpTransport.open({ ...base, localNodeId: 1, envelope: envelopeFor(1, 'none') });
  try {
    await assert.rejects(
      UdpTransport.open({ ...base, localNodeId: 1, envelope: envelopeFor(1, 'none') }),
      (e: unknown) =>
        e instanceof TransportError && e.message === `cannot bind 127.0.0.1:${peers[0]!.port}: EADDRINUSE`,
    );
  } finally {
    await first.close();
  }
});

test('udp multicast over IPv6 (needs a multicast-capable interface on ::1)', T, async (t) => {
  if (!(await canBind('::1'))) {
    t.skip('IPv6 ::1 is not available on this kernel');
    return;
  }
  const group = 'ff15::77:1';
  const [mport] = await freePorts(1, '::1');
  const probe = await new Promise<string | undefined>((resolve) => {
    const s = createSocket('udp6');
    s.on('error', (e) => resolve(`cannot use IPv6 multicast on lo (${(e as NodeJS.ErrnoException).code})`));
    s.bind(0, '::1', () => {
      try {
        s.setMulticastInterface('::%lo');
      } catch (e) {
        s.close();
        resolve(`cannot use IPv6 multicast on lo (${(e as NodeJS.ErrnoException).code})`);
        return;
      }
      s.send('probe', mport!, group, (e) => {
        s.close();
        resolve(
          e
            ? `IPv6 multicast on lo is refused by this kernel (${(e as NodeJS.ErrnoException).code})`
            : undefined,
        );
      });
    });
  });
  if (probe) {
    t.skip(probe);
    return;
  }
  const ports = await freePorts(2, '::1');
  const peers = ports.map((port, i) => ({ nodeId: i + 1, address: '::1', port }));
  const c = await openCluster({
    peers,
    mode: 'udp',
    multicast: { group, port: mport!, ttl: 0 },
    cipher: 'aes256',
  });
  try {
    c.transports.get(1)!.send(BROADCAST, Buffer.from('v6 group'));
    await waitFor(() => c.inbox.get(2)!.length === 1);
  } finally {
    await c.close();
  }
});

test('payloads above maxPayload are sent but counted (IP fragments them)', T, async () => {
  const c = await openCluster({ peers: await loopbackPeers(2), cipher: 'none' });
  try {
    const t1 = c.transports.get(1)!;
    t1.send(2, new Uint8Array(t1.maxPayload));
    t1.send(2, new Uint8Array(t1.maxPayload + 1));
    await waitFor(() => c.inbox.get(2)!.length === 2);
    assert.equal(t1.stats().oversizeSends, 1);
  } finally {
    await c.close();
  }
});

test(
  'udp multicast, corosync layout: nodes on 127.0.0.2 and .3 share mcastport with the group',
  T,
  async (t) => {
    const group = '239.192.77.2';
    if (!(await canBind('127.0.0.2')) || !(await canBind('127.0.0.3'))) {
      t.skip('127.0.0.2/127.0.0.3 cannot be bound here');
      return;
    }
    const [port] = await freePorts(1, '127.0.0.1');
    const why = await multicastWorks(group, port!);
    if (why) {
      t.skip(why);
      return;
    }
    const peers = [
      { nodeId: 1, address: '127.0.0.2', port: port! },
      { nodeId: 2, address: '127.0.0.3', port: port! },
    ];
    const c = await openCluster({
      peers,
      mode: 'udp',
      multicast: { group, port: port!, ttl: 1 },
      cipher: 'chacha20',
    });
    try {
      c.transports.get(1)!.send(BROADCAST, Buffer.from('g'));
      c.transports.get(2)!.send(1, Buffer.from('u'));
      await waitFor(() => c.inbox.get(1)!.length === 1 && c.inbox.get(2)!.length === 1);
      assert.deepEqual(c.inbox.get(2)![0]!.payload.toString(), 'g');
      assert.deepEqual(c.inbox.get(1)![0]!.payload.toString(), 'u');
    } finally {
      await c.close();
    }
  },
);
