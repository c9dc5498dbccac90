/**
 * UDP transport for the runtime: udpu (one unicast datagram to each other node) or udp
 * (one datagram to a multicast group), IPv4 or IPv6, every packet inside the envelope.
 *
 * - One socket bound to this node's ring0 address and port sends everything and receives
 *   unicast. In udp mode a second socket bound to group:mcastport (SO_REUSEADDR, so several
 *   nodes on one host can share it) receives the group's traffic.
 * - A peer is the node id in the envelope header, accepted only if it is configured and the
 *   datagram's source IP is that node's address (any source port, as corosync does).
 *   With a cipher the id is authenticated; in plain mode it is as trustworthy as the IP.
 * - `send(BROADCAST)` reaches every OTHER node. Our own multicast echo (the group socket
 *   has loopback on, so that nodes sharing a host hear each other) is dropped and counted.
 * - Errors never stop the transport: a failed send (ECONNREFUSED, EMSGSIZE, ENETUNREACH,
 *   …) or a socket error is counted and recorded, and the next send is tried as usual.
 *   On Linux an unconnected UDP socket does not see ICMP port-unreachable, so a stopped
 *   peer is mostly silent; the protocol's timeouts deal with that.
 * - Received bytes are handed on only after the envelope accepted them.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';
import { BROADCAST, type NodeId } from '../core/io.js';
import { ENUMS } from '../recorder/events/enums.js';
import { EV } from '../recorder/events/index.js';
import type { Recorder } from '../recorder/recorder.js';
import { CIPHER_IDS, type Envelope, EnvelopeError } from './crypto.js';

export type TransportMode = 'udpu' | 'udp';

export interface TransportPeer {
  readonly nodeId: NodeId;
  /** Literal IPv4 or IPv6 address in canonical form. */
  readonly address: string;
  readonly port: number;
}

export interface MulticastOptions {
  readonly group: string;
  readonly port: number;
  readonly ttl: number;
}

/** Test-only: return false to drop a datagram between `from` and `to`. */
export type PacketFilter = (from: NodeId, to: NodeId, direction: 'out' | 'in') => boolean;

export interface TransportOptions {
  readonly mode: TransportMode;
  readonly localNodeId: NodeId;
  /** Every configured node, this one included. */
  readonly nodes: readonly TransportPeer[];
  /** Required in udp mode. */
  readonly multicast?: MulticastOptions;
  readonly envelope: Envelope;
  readonly onPacket: (from: NodeId, payload: Uint8Array) => void;
  /** SO_SNDBUF / SO_RCVBUF to ask for (the kernel may grant less, and Linux reports double). */
  readonly sendBuffer?: number;
  readonly recvBuffer?: number;
  /** Network MTU the payload budget is computed from (default 1500). */
  readonly netmtu?: number;
  readonly recorder?: Recorder;
  /** Time source for records made on socket events (default performance.now). */
  readonly clock?: () => number;
  /** Test-only packet filter (partition tests). */
  readonly filter?: PacketFilter;
}

export type DropReason = (typeof ENUMS.transportDrop)[number];
const DROP_INDEX = new Map<string, number>(ENUMS.transportDrop!.map((r, i) => [r, i]));

export interface TransportStats {
  /** send() calls that produced at least one datagram. */
  sentPayloads: number;
  sentDatagrams: number;
  sentBytes: number;
  sendErrors: number;
  received: number;
  receivedBytes: number;
  dropped: Record<string, number>;
  droppedTotal: number;
  /** Our own multicasts heard back (normal in udp mode, not an error). */
  selfEchoes: number;
  filteredOut: number;
  filteredIn: number;
  socketErrors: number;
  /** send() after close(), ignored. */
  sendsAfterClose: number;
  /** Payloads above maxPayload: sent, but IP will fragment them (a lost fragment loses the packet). */
  oversizeSends: number;
  /** Sizes the kernel reports after our request. */
  sendBuffer: number;
  recvBuffer: number;
  lastError: string | undefined;
}

export class TransportError extends Error {
  override readonly name = 'TransportError';
}

const IPV4_HEADER = 20;
const IPV6_HEADER = 40;
const UDP_HEADER = 8;

export class UdpTransport {
  /** Largest payload whose datagram fits the network MTU without IP fragmentation. */
  readonly maxPayload: number;
  readonly localNodeId: NodeId;
  private readonly peers = new Map<NodeId, TransportPeer>();
  /** Each peer's address as it appears as a datagram source (no IPv6 zone id). */
  private readonly sourceOf = new Map<NodeId, string>();
  private readonly others: TransportPeer[];
  private readonly self: TransportPeer;
  private readonly family: 4 | 6;
  private unicast: Socket | undefined;
  private group: Socket | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly stat: TransportStats = {
    sentPayloads: 0,
    sentDatagrams: 0,
    sentBytes: 0,
    sendErrors: 0,
    received: 0,
    receivedBytes: 0,
    dropped: {},
    droppedTotal: 0,
    selfEchoes: 0,
    filteredOut: 0,
    filteredIn: 0,
    socketErrors: 0,
    sendsAfterClose: 0,
    oversizeSends: 0,
    sendBuffer: 0,
    recvBuffer: 0,
    lastError: undefined,
  };
  private readonly clock: () => number;
  private readonly rec: Recorder | undefined;

  private constructor(private readonly opts: TransportOptions) {
    this.localNodeId = opts.localNodeId;
    for (const p of opts.nodes) {
      if (this.peers.has(p.nodeId)) throw new TransportError(`node ${p.nodeId} is listed twice`);
      if (p.nodeId === 0) throw new TransportError('node id 0 is reserved');
      this.peers.set(p.nodeId, p);
      this.sourceOf.set(p.nodeId, normalizeSource(p.address));
    }
    const self = this.peers.get(opts.localNodeId);
    if (!self) throw new TransportError(`local node ${opts.localNodeId} is not in the node list`);
    this.self = self;
    this.others = opts.nodes.filter((p) => p.nodeId !== opts.localNodeId);
    this.family = self.address.includes(':') ? 6 : 4;
    for (const p of opts.nodes) {
      if ((p.address.includes(':') ? 6 : 4) !== this.family) {
        throw new TransportError(`node ${p.nodeId} (${p.address}) is not IPv${this.family} like this node`);
      }
    }
    if (opts.mode === 'udp' && !opts.multicast) throw new TransportError('udp mode needs multicast options');
    if (opts.envelope.localNodeId !== opts.localNodeId) {
      throw new TransportError(
        `the envelope is for node ${opts.envelope.localNodeId}, not ${opts.localNodeId}`,
      );
    }
    const ipHeader = this.family === 6 ? IPV6_HEADER : IPV4_HEADER;
    this.maxPayload = (opts.netmtu ?? 1500) - ipHeader - UDP_HEADER - opts.envelope.overhead;
    this.clock = opts.clock ?? (() => performance.now());
    this.rec = opts.recorder;
  }

  /** Binds the socket(s); rejects with TransportError if an address cannot be bound or joined. */
  static async open(opts: TransportOptions): Promise<UdpTransport> {
    const t = new UdpTransport(opts);
    try {
      await t.bind();
    } catch (err) {
      await t.close();
      throw err;
    }
    return t;
  }

  private async bind(): Promise<void> {
    const type = this.family === 6 ? 'udp6' : 'udp4';
    const unicast = createSocket({ type, reuseAddr: false });
    this.unicast = unicast;
    await bindSocket(unicast, this.self.port, this.self.address);
    unicast.on('message', (msg, rinfo) => this.receive(msg, rinfo, false));
    unicast.on('error', (err) => this.socketError(err));
    this.setBuffers(unicast);

    const mc = this.opts.multicast;
    if (this.opts.mode === 'udp' && mc) {
      // IPv4 names the interface by address; IPv6 by scope (`::%eth0`), found from the address.
      const iface = this.family === 4 ? this.self.address : ipv6Scope(this.self.address);
      try {
        if (iface !== undefined) unicast.setMulticastInterface(iface);
        unicast.setMulticastTTL(mc.ttl);
        unicast.setMulticastLoopback(true);
      } catch (err) {
        throw new TransportError(`cannot set multicast options on ${this.self.address}: ${errText(err)}`);
      }
      const group = createSocket({ type, reuseAddr: true });
      this.group = group;
      await bindSocket(group, mc.port, mc.group);
      try {
        group.addMembership(mc.group, iface);
      } catch (err) {
        throw new TransportError(
          `cannot join multicast group ${mc.group} on ${this.self.address}: ${errText(err)}`,
        );
      }
      group.on('message', (msg, rinfo) => this.receive(msg, rinfo, true));
      group.on('error', (err) => this.socketError(err));
      if (this.opts.recvBuffer) trySet(() => group.setRecvBufferSize(this.opts.recvBuffer!));
      this.rec?.rec(EV.TRANSPORT_MCAST_JOIN, this.rec.intern(mc.group), mc.port);
    }
    this.rec?.rec(
      EV.TRANSPORT_OPEN,
      this.localNodeId,
      this.self.port,
      this.opts.mode === 'udp' ? 1 : 0,
      CIPHER_IDS.indexOf(this.opts.envelope.cipher),
    );
  }

  private setBuffers(socket: Socket): void {
    const { sendBuffer, recvBuffer } = this.opts;
    if (sendBuffer) trySet(() => socket.setSendBufferSize(sendBuffer));
    if (recvBuffer) trySet(() => socket.setRecvBufferSize(recvBuffer));
    this.stat.sendBuffer = socket.getSendBufferSize();
    this.stat.recvBuffer = socket.getRecvBufferSize();
    this.rec?.rec(
      EV.TRANSPORT_BUFFERS,
      sendBuffer ?? 0,
      this.stat.sendBuffer,
      recvBuffer ?? 0,
      this.stat.recvBuffer,
    );
  }

  /** Sends one payload to one node, or to every other node (BROADCAST). Never throws on network errors. */
  send(to: NodeId, payload: Uint8Array): void {
    const socket = this.unicast;
    if (this.closed || !socket) {
      this.stat.sendsAfterClose++;
      return;
    }
    let targets: readonly TransportPeer[];
    let viaGroup = false;
    if (to === BROADCAST) {
      viaGroup = this.opts.mode === 'udp';
      targets = this.others;
    } else {
      const peer = this.peers.get(to);
      if (!peer) {
        this.countSendError(to, 'unknown-node', 0);
        return;
      }
      targets = [peer];
    }
    if (payload.length > this.maxPayload) this.stat.oversizeSends++;
    const packet = this.opts.envelope.seal(payload);
    let datagrams = 0;
    if (viaGroup) {
      // One datagram for the group; the filter can only drop it for everyone or no one, so
      // partition tests filter per receiver on the way in instead.
      const mc = this.opts.multicast!;
      datagrams = this.transmit(socket, packet, mc.port, mc.group, BROADCAST);
    } else {
      for (const peer of targets) {
        if (this.opts.filter && !this.opts.filter(this.localNodeId, peer.nodeId, 'out')) {
          this.stat.filteredOut++;
          this.rec?.rec(EV.TRANSPORT_FILTERED, this.localNodeId, peer.nodeId, payload.length, 1);
          continue;
        }
        datagrams += this.transmit(socket, packet, peer.port, peer.address, peer.nodeId);
      }
    }
    if (datagrams > 0) this.stat.sentPayloads++;
    this.rec?.rec(EV.TRANSPORT_TX, to, payload.length, datagrams);
  }

  private transmit(socket: Socket, packet: Uint8Array, port: number, address: string, to: NodeId): number {
    try {
      socket.send(packet, port, address, (err) => {
        if (err) this.sendFailed(to, err);
      });
    } catch (err) {
      this.sendFailed(to, err);
      return 0;
    }
    this.stat.sentDatagrams++;
    this.stat.sentBytes += packet.length;
    return 1;
  }

  private sendFailed(to: NodeId, err: unknown): void {
    // Send callbacks are inputs of their own: stamp the time.
    this.rec?.setTime(this.clock());
    const e = err as NodeJS.ErrnoException;
    this.countSendError(to, e.code ?? 'error', typeof e.errno === 'number' ? e.errno : 0);
  }

  private countSendError(to: NodeId, code: string, errno: number): void {
    this.stat.sendErrors++;
    this.stat.lastError = `send to ${to}: ${code}`;
    this.rec?.rec(EV.TRANSPORT_SEND_ERROR, to, this.rec.intern(code), errno);
  }

  private socketError(err: Error): void {
    this.rec?.setTime(this.clock());
    const e = err as NodeJS.ErrnoException;
    this.stat.socketErrors++;
    this.stat.lastError = `socket: ${e.code ?? e.message}`;
    this.rec?.rec(
      EV.TRANSPORT_SOCKET_ERROR,
      this.rec.intern(e.code ?? 'error'),
      typeof e.errno === 'number' ? e.errno : 0,
    );
  }

  private receive(msg: Buffer, rinfo: RemoteInfo, fromGroup: boolean): void {
    if (this.closed) return;
    this.rec?.setTime(this.clock());
    let from: NodeId;
    let payload: Uint8Array;
    try {
      ({ from, payload } = this.opts.envelope.open(msg));
    } catch (err) {
      if (!(err instanceof EnvelopeError)) throw err;
      this.drop(err.reason, err.claimedSender, msg.length, rinfo.port);
      return;
    }
    if (from === this.localNodeId && fromGroup) {
      this.stat.selfEchoes++;
      return;
    }
    const peer = this.peers.get(from);
    if (!peer) {
      this.drop('unknown-sender', from, msg.length, rinfo.port);
      return;
    }
    if (normalizeSource(rinfo.address) !== this.sourceOf.get(from)) {
      this.drop('address-mismatch', from, msg.length, rinfo.port);
      return;
    }
    if (this.opts.filter && !this.opts.filter(from, this.localNodeId, 'in')) {
      this.stat.filteredIn++;
      this.rec?.rec(EV.TRANSPORT_FILTERED, from, this.localNodeId, payload.length, 0);
      return;
    }
    this.stat.received++;
    this.stat.receivedBytes += payload.length;
    this.rec?.rec(EV.TRANSPORT_RX, from, payload.length);
    this.opts.onPacket(from, payload);
  }

  private drop(reason: DropReason, claimed: NodeId, length: number, srcPort: number): void {
    this.stat.droppedTotal++;
    this.stat.dropped[reason] = (this.stat.dropped[reason] ?? 0) + 1;
    this.rec?.rec(EV.TRANSPORT_DROP, DROP_INDEX.get(reason) ?? -1, claimed, length, srcPort);
  }

  /** A snapshot of the counters. */
  stats(): TransportStats {
    return { ...this.stat, dropped: { ...this.stat.dropped } };
  }

  /** The address and port this node's socket is bound to (port resolved when 0 was asked). */
  address(): { address: string; port: number } {
    const a = this.unicast!.address();
    return { address: a.address, port: a.port };
  }

  /** Closes every socket. Idempotent; later sends are ignored and counted. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    const sockets = [this.unicast, this.group].filter((s): s is Socket => s !== undefined);
    this.closing = Promise.all(sockets.map(closeSocket)).then(() => {
      const s = this.stat;
      this.rec?.setTime(this.clock());
      this.rec?.rec(EV.TRANSPORT_CLOSE, s.sentDatagrams, s.received, s.droppedTotal, s.sendErrors);
    });
    return this.closing;
  }
}

function bindSocket(socket: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(new TransportError(`cannot bind ${address}:${port}: ${errText(err)}`));
    };
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: true }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

function closeSocket(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    try {
      socket.close(() => resolve());
    } catch {
      resolve(); // never bound, or already closed
    }
  });
}

function trySet(fn: () => void): void {
  try {
    fn();
  } catch {
    // The kernel refused the size; the size actually granted is read back and recorded.
  }
}

function errText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ?? e.message ?? String(err);
}

/** `::%ifname` for the interface that owns an IPv6 address, or undefined (kernel's choice). */
function ipv6Scope(address: string): string | undefined {
  const bare = address.split('%')[0]!;
  const zone = address.includes('%') ? address.split('%')[1] : undefined;
  if (zone) return `::%${zone}`;
  for (const [name, list] of Object.entries(networkInterfaces())) {
    if (list?.some((i) => i.family === 'IPv6' && i.address.split('%')[0] === bare)) return `::%${name}`;
  }
  return undefined;
}

/** Source addresses come back in canonical form, except IPv6 zone ids and v4-mapped forms. */
function normalizeSource(address: string): string {
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  const zone = address.indexOf('%');
  return zone >= 0 ? address.slice(0, zone) : address;
}
