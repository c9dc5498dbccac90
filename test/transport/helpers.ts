/** Loopback clusters of real UDP transports for tests: bounded waits, every socket closed. */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import type { NodeId } from '../../src/core/io.js';
import type { Recorder } from '../../src/recorder/recorder.js';
import { Envelope } from '../../src/transport/crypto.js';
import {
  type MulticastOptions,
  type PacketFilter,
  type TransportMode,
  type TransportPeer,
  UdpTransport,
} from '../../src/transport/udp-transport.js';

export const KEY = randomBytes(64);

/** Ports that were free a moment ago on `address` (bind to 0, read, close). */
export async function freePorts(count: number, address: string): Promise<number[]> {
  const sockets: Socket[] = [];
  const ports: number[] = [];
  for (let i = 0; i < count; i++) {
    const s = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, address, () => resolve());
    });
    sockets.push(s);
    ports.push(s.address().port);
  }
  await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

export interface Received {
  readonly from: NodeId;
  readonly payload: Buffer;
}

export interface TestCluster {
  readonly transports: Map<NodeId, UdpTransport>;
  readonly inbox: Map<NodeId, Received[]>;
  readonly peers: readonly TransportPeer[];
  close(): Promise<void>;
}

export interface ClusterSpec {
  readonly peers: readonly TransportPeer[];
  readonly mode?: TransportMode;
  readonly multicast?: MulticastOptions;
  readonly cipher?: 'aes256' | 'chacha20' | 'none';
  readonly filter?: PacketFilter;
  readonly recorders?: Map<NodeId, Recorder>;
}

export function envelopeFor(nodeId: NodeId, cipher: 'aes256' | 'chacha20' | 'none', key = KEY): Envelope {
  return cipher === 'none'
    ? Envelope.plain(nodeId)
    : Envelope.sealed({ cipher, key, clusterName: 'test', localNodeId: nodeId });
}

export async function openCluster(spec: ClusterSpec): Promise<TestCluster> {
  const transports = new Map<NodeId, UdpTransport>();
  const inbox = new Map<NodeId, Received[]>();
  const close = async (): Promise<void> => {
    await Promise.all([...transports.values()].map((t) => t.close()));
  };
  try {
    for (const peer of spec.peers) {
      const box: Received[] = [];
      inbox.set(peer.nodeId, box);
      const t = await UdpTransport.open({
        mode: spec.mode ?? 'udpu',
        localNodeId: peer.nodeId,
        nodes: spec.peers,
        multicast: spec.multicast,
        envelope: envelopeFor(peer.nodeId, spec.cipher ?? 'aes256'),
        onPacket: (from, payload) => box.push({ from, payload: Buffer.from(payload) }),
        recorder: spec.recorders?.get(peer.nodeId),
        filter: spec.filter,
        sendBuffer: 256 * 1024,
        recvBuffer: 1024 * 1024,
      });
      transports.set(peer.nodeId, t);
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { transports, inbox, peers: spec.peers, close };
}

/** Waits until `done()` holds, polling; fails after `ms`. */
export async function waitFor(done: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Lets in-flight datagrams land (for asserting that something did NOT arrive). */
export function settle(ms = 100): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Sends raw bytes from a throwaway socket bound to `fromAddress`. */
export async function sendRaw(bytes: Uint8Array, to: TransportPeer, fromAddress: string): Promise<void> {
  const s = createSocket(fromAddress.includes(':') ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, fromAddress, () => resolve());
    });
    await new Promise<void>((resolve, reject) =>
      s.send(bytes, to.port, to.address, (e) => (e ? reject(e) : resolve())),
    );
  } finally {
    await new Promise<void>((r) => s.close(() => r()));
  }
}

export async function canBind(address: string): Promise<boolean> {
  try {
    await freePorts(1, address);
    return true;
  } catch {
    return false;
  }
}
