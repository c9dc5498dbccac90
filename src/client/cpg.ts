/**
 * The Node client library for closed process groups: `import { Cpg } from 'totem'`.
 *
 *   const cpg = await Cpg.connect({ socket: '/run/totem/totem.sock' });
 *   await cpg.join('workers');
 *   await cpg.send('workers', 'hello');
 *   for await (const m of cpg.messages('workers')) console.log(m.nodeId, m.pid, m.text());
 *
 * TRY_AGAIN (sync round running, leave in flight) is retried for the caller with a bounded
 * exponential backoff; a send that finds the queue full is held by the daemon until it fits
 * (unless retries are off), so the caller's await is the back-pressure. When the daemon goes away the client reconnects (unless told not to),
 * joins its groups again and emits 'reconnect'.
 */

import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Guarantee as WireGuarantee } from '../core/io.js';
import { ErrorCode, TotemError } from '../ipc/errors.js';
import type { CpgMember as WireMember } from '../services/cpg/cpg-service.js';
import {
  CpgEvent,
  CpgOp,
  decodeConfchgEvent,
  decodeDeliverEvent,
  decodeGroupsReply,
  decodeLocalReply,
  decodeMembers,
  decodeTotemEvent,
  encodeGroupRequest,
  encodeMcastRequest,
} from '../services/cpg/ipc-protocol.js';
import { CPG_SERVICE_ID, MAX_CPG_GROUP_BYTES } from '../services/cpg/limits.js';
import { DecodeError } from '../wire/decode-error.js';
import { abortable, clientName } from './call-helpers.js';
import { IpcConnection } from './ipc-connection.js';
import { Subscription } from './subscription.js';

export type GuaranteeName = 'agreed' | 'safe';
export type MemberReason = 'member' | 'join' | 'leave' | 'node-down' | 'node-up' | 'proc-down';
const REASONS: readonly MemberReason[] = ['member', 'join', 'leave', 'node-down', 'node-up', 'proc-down'];

export interface CpgMember {
  readonly nodeId: number;
  readonly pid: number;
  /** Why it is in a left/joined list; 'member' in member lists. */
  readonly reason: MemberReason;
}

export class CpgMessage {
  constructor(
    readonly group: string,
    readonly nodeId: number,
    readonly pid: number,
    readonly guarantee: GuaranteeName,
    readonly data: Uint8Array,
  ) {}

  /** The data as UTF-8 text. */
  text(): string {
    return textDecoder.decode(this.data);
  }
}

export interface CpgConfigurationChange {
  readonly group: string;
  /** Every member after the change, sorted by (nodeId, pid). */
  readonly members: readonly CpgMember[];
  readonly left: readonly CpgMember[];
  readonly joined: readonly CpgMember[];
}

export interface TotemConfigurationChange {
  readonly ringId: { readonly rep: number; readonly seq: number };
  readonly members: readonly number[];
}

export interface CpgGroup {
  readonly group: string;
  readonly members: readonly CpgMember[];
}

export interface LocalNode {
  readonly nodeId: number;
  /** The configuration of the last completed sync round (undefined before the first). */
  readonly ring: TotemConfigurationChange | undefined;
}

export interface RetryOptions {
  /** Attempts in all, the first included (default 100). */
  readonly attempts?: number;
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
}

export interface ReconnectOptions {
  /** Attempts before giving up and closing (default: no limit). */
  readonly attempts?: number;
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
}

export interface CpgConnectOptions {
  /** Path of the daemon's IPC socket. */
  readonly socket: string;
  /** Shown in the daemon's flight recorder (default: the script name). */
  readonly name?: string;
  readonly pid?: number;
  readonly signal?: AbortSignal;
  /** TRY_AGAIN handling for every call (false: reject at once). */
  readonly retry?: RetryOptions | false;
  /** Reconnection when the daemon goes away (false: emit 'close' instead). */
  readonly reconnect?: ReconnectOptions | false;
  /**
   * Items waiting in message/change iterators before the client stops reading its socket
   * (the daemon then queues, and eventually drops a client that never catches up).
   * Default 10000.
   */
  readonly highWaterMark?: number;
}

export interface CallOptions {
  readonly signal?: AbortSignal;
  readonly retry?: RetryOptions | false;
}

export interface SendOptions extends CallOptions {
  /** 'agreed' (default): total order. 'safe': delivered once every member holds it. */
  readonly guarantee?: GuaranteeName;
}

export interface IterateOptions {
  readonly signal?: AbortSignal;
}

export interface CpgEvents {
  /** A message to a group this client joined, in the group's agreed order. */
  message: [message: CpgMessage];
  /** A group's membership changed. */
  confchg: [change: CpgConfigurationChange];
  /** The cluster configuration changed (after each completed sync round). */
  totem: [change: TotemConfigurationChange];
  /** The connection to the daemon was lost; reconnecting follows unless disabled. */
  disconnect: [error: TotemError];
  /** Connected again; `groups` were joined again, `failed` could not be. */
  reconnect: [info: { attempt: number; groups: string[]; failed: { group: string; error: TotemError }[] }];
  /** The client is closed for good (error undefined after close()). */
  close: [error: TotemError | undefined];
}

const DEFAULT_RETRY: Required<RetryOptions> = { attempts: 100, initialDelayMs: 1, maxDelayMs: 100 };
const DEFAULT_RECONNECT: Required<ReconnectOptions> = {
  attempts: Number.POSITIVE_INFINITY,
  initialDelayMs: 50,
  maxDelayMs: 2000,
};
const DEFAULT_HIGH_WATER_MARK = 10_000;

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export class Cpg extends EventEmitter<CpgEvents> {
  private conn: IpcConnection | undefined;
  private closed = false;
  private closeError: TotemError | undefined;
  private readonly joinedGroups = new Set<string>();
  private readonly messageSubs = new Set<Subscription<CpgMessage>>();
  private readonly changeSubs = new Set<Subscription<CpgConfigurationChange>>();
  private readonly stop = new AbortController();
  private readonly waiters: { resolve(c: IpcConnection): void; reject(e: unknown): void }[] = [];
  private queued = 0;
  private paused = false;
  private readonly retry: Required<RetryOptions> | false;
  private readonly reconnectOpts: Required<ReconnectOptions> | false;
  private readonly highWaterMark: number;
  private nodeIdValue = 0;

  private constructor(private readonly opts: CpgConnectOptions) {
    super();
    this.retry = opts.retry === false ? false : { ...DEFAULT_RETRY, ...opts.retry };
    this.reconnectOpts = opts.reconnect === false ? false : { ...DEFAULT_RECONNECT, ...opts.reconnect };
    this.highWaterMark = opts.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
  }

  /** Connects and completes the handshake; rejects with TotemError (LIBRARY when unreachable). */
  static async connect(opts: CpgConnectOptions): Promise<Cpg> {
    const cpg = new Cpg(opts);
    cpg.conn = await cpg.open(opts.signal);
    return cpg;
  }

  /** This node's id, as the daemon stated it. */
  get nodeId(): number {
    return this.nodeIdValue;
  }

  get connected(): boolean {
    return this.conn?.isOpen ?? false;
  }

  /** Groups this client has joined (and will join again after a reconnect). */
  get groups(): readonly string[] {
    return [...this.joinedGroups];
  }

  async join(group: string, opts: CallOptions = {}): Promise<void> {
    const name = groupBytes(group);
    await this.call(CpgOp.Join, encodeGroupRequest(name), opts, () => this.joinedGroups.add(group));
  }

  async leave(group: string, opts: CallOptions = {}): Promise<void> {
    const name = groupBytes(group);
    await this.call(CpgOp.Leave, encodeGroupRequest(name), opts, () => this.joinedGroups.delete(group));
  }

  /** Multicasts to a group this client joined. Resolves once the daemon accepted it for ordering. */
  async send(group: string, data: Uint8Array | string, opts: SendOptions = {}): Promise<void> {
    const bytes = typeof data === 'string' ? textEncoder.encode(data) : data;
    const guarantee = opts.guarantee === 'safe' ? WireGuarantee.Safe : WireGuarantee.Agreed;
    if (opts.guarantee !== undefined && opts.guarantee !== 'safe' && opts.guarantee !== 'agreed') {
      throw new TotemError(ErrorCode.INVALID_PARAM, `guarantee must be 'agreed' or 'safe'`);
    }
    // With retries on, the daemon holds the send while its queue is full (no TRY_AGAIN polling).
    const wait = (opts.retry ?? this.retry) !== false;
    await this.call(CpgOp.Mcast, encodeMcastRequest(groupBytes(group), guarantee, bytes, wait), opts);
  }

  /** A group's members, sorted by (nodeId, pid). */
  async members(group: string, opts: CallOptions = {}): Promise<CpgMember[]> {
    const reply = await this.call(CpgOp.Members, encodeGroupRequest(groupBytes(group)), opts);
    return decodeMembers(reply).map(member);
  }

  /** Every group in the cluster with its members, sorted by name. */
  async listGroups(opts: CallOptions = {}): Promise<CpgGroup[]> {
    const reply = await this.call(CpgOp.Groups, new Uint8Array(0), opts);
    return decodeGroupsReply(reply).map((g) => ({
      group: textDecoder.decode(g.group),
      members: g.members.map(member),
    }));
  }

  async local(opts: CallOptions = {}): Promise<LocalNode> {
    const reply = decodeLocalReply(await this.call(CpgOp.Local, new Uint8Array(0), opts));
    return { nodeId: reply.nodeId, ring: reply.ring };
  }

  /** The group's messages from now on, as an async iterator (ends when the client closes). */
  messages(group: string, opts: IterateOptions = {}): AsyncIterableIterator<CpgMessage> {
    return this.subscribe(this.messageSubs, (m) => m.group === group, opts.signal);
  }

  /** The group's configuration changes (every group's if none is named). */
  changes(group?: string, opts: IterateOptions = {}): AsyncIterableIterator<CpgConfigurationChange> {
    return this.subscribe(this.changeSubs, (c) => group === undefined || c.group === group, opts.signal);
  }

  /** Closes the connection; the daemon removes this client from its groups (PROCDOWN). */
  async close(): Promise<void> {
    this.shutdown(undefined);
  }

  // ---- internals ---------------------------------------------------------------------------

  private async open(signal?: AbortSignal): Promise<IpcConnection> {
    const conn = await IpcConnection.open({
      socket: this.opts.socket,
      name: this.opts.name ?? clientName(),
      pid: this.opts.pid ?? process.pid,
      ...(signal ? { signal } : {}),
      onEvent: (service, event, payload) => this.event(service, event, payload),
      onClose: (reason) => {
        if (reason) this.lost(reason);
      },
    });
    this.nodeIdValue = conn.nodeId;
    if (this.paused) conn.setPaused(true);
    return conn;
  }

  private async call(
    op: number,
    payload: Uint8Array,
    opts: CallOptions,
    onOk?: () => void,
  ): Promise<Uint8Array> {
    const retry =
      opts.retry === undefined
        ? this.retry
        : opts.retry === false
          ? false
          : { ...DEFAULT_RETRY, ...opts.retry };
    let delay = retry ? retry.initialDelayMs : 0;
    for (let attempt = 1; ; attempt++) {
      opts.signal?.throwIfAborted();
      const conn = await this.connection(opts.signal);
      const reply = conn.request(CPG_SERVICE_ID, op, payload);
      // The daemon's answer counts even if the caller stops waiting for it.
      reply.then(onOk, () => {});
      try {
        return await abortable(reply, opts.signal);
      } catch (err) {
        if (!(err instanceof TotemError) || err.code !== ErrorCode.TRY_AGAIN) throw err;
        if (!retry || attempt >= retry.attempts) throw err;
        await sleep(delay, undefined, opts.signal ? { signal: opts.signal } : {});
        delay = Math.min(Math.max(delay * 2, 1), retry.maxDelayMs);
      }
    }
  }

  /** The open connection, waiting for a reconnect in progress. */
  private connection(signal?: AbortSignal): Promise<IpcConnection> {
    if (this.closed)
      return Promise.reject(this.closeError ?? new TotemError(ErrorCode.BAD_HANDLE, 'the client is closed'));
    if (this.conn?.isOpen) return Promise.resolve(this.conn);
    return abortable(
      new Promise<IpcConnection>((resolve, reject) => this.waiters.push({ resolve, reject })),
      signal,
    );
  }

  private event(service: number, event: number, payload: Uint8Array): void {
    if (service !== CPG_SERVICE_ID) return;
    try {
      switch (event) {
        case CpgEvent.Deliver: {
          const e = decodeDeliverEvent(payload);
          const m = new CpgMessage(
            textDecoder.decode(e.group),
            e.nodeId,
            e.pid,
            e.guarantee === WireGuarantee.Safe ? 'safe' : 'agreed',
            e.data.slice(),
          );
          this.emit('message', m);
          for (const sub of this.messageSubs) if (sub.accepts(m)) sub.push(m);
          return;
        }
        case CpgEvent.Confchg: {
          const e = decodeConfchgEvent(payload);
          const c: CpgConfigurationChange = {
            group: textDecoder.decode(e.group),
            members: e.members.map(member),
            left: e.left.map(member),
            joined: e.joined.map(member),
          };
          this.emit('confchg', c);
          for (const sub of this.changeSubs) if (sub.accepts(c)) sub.push(c);
          return;
        }
        case CpgEvent.Totem: {
          const e = decodeTotemEvent(payload);
          this.emit('totem', { ringId: e.ringId, members: e.members });
          return;
        }
        default:
          return;
      }
    } catch (err) {
      if (!(err instanceof DecodeError)) throw err;
      // A daemon speaking another protocol: drop this connection; reconnecting may help.
      this.conn?.close();
      this.lost(new TotemError(ErrorCode.PROTOCOL, `malformed cpg event: ${err.message}`));
    }
  }

  private subscribe<T>(
    set: Set<Subscription<T>>,
    accepts: (item: T) => boolean,
    signal?: AbortSignal,
  ): Subscription<T> {
    const sub = new Subscription<T>(
      accepts,
      (d) => this.backPressure(d),
      (s) => set.delete(s),
      signal,
    );
    if (this.closed) sub.finish(this.closeError);
    else set.add(sub);
    return sub;
  }

  private backPressure(delta: number): void {
    this.queued += delta;
    const pause =
      this.queued >= this.highWaterMark ? true : this.queued <= this.highWaterMark / 2 ? false : this.paused;
    if (pause !== this.paused) {
      this.paused = pause;
      this.conn?.setPaused(pause);
    }
  }

  private lost(reason: TotemError): void {
    if (this.closed) return;
    this.emit('disconnect', reason);
    if (!this.reconnectOpts) {
      this.shutdown(reason);
      return;
    }
    void this.reconnect(this.reconnectOpts, reason);
  }

  private async reconnect(opts: Required<ReconnectOptions>, reason: TotemError): Promise<void> {
    let delay = opts.initialDelayMs;
    for (let attempt = 1; attempt <= opts.attempts; attempt++) {
      try {
        await sleep(delay, undefined, { signal: this.stop.signal });
      } catch {
        return; // closed meanwhile
      }
      delay = Math.min(delay * 2, opts.maxDelayMs);
      let conn: IpcConnection;
      try {
        conn = await this.open(this.stop.signal);
      } catch {
        if (this.closed) return;
        continue;
      }
      if (this.closed) {
        conn.close();
        return;
      }
      this.conn = conn;
      const groups: string[] = [];
      const failed: { group: string; error: TotemError }[] = [];
      for (const group of [...this.joinedGroups]) {
        try {
          await this.call(CpgOp.Join, encodeGroupRequest(groupBytes(group)), {});
          groups.push(group);
        } catch (err) {
          if (err instanceof TotemError && err.code === ErrorCode.EXIST) groups.push(group);
          else {
            this.joinedGroups.delete(group);
            failed.push({
              group,
              error: err instanceof TotemError ? err : new TotemError(ErrorCode.LIBRARY, String(err)),
            });
          }
        }
      }
      if (!conn.isOpen) continue;
      for (const w of this.waiters.splice(0)) w.resolve(conn);
      this.emit('reconnect', { attempt, groups, failed });
      return;
    }
    this.shutdown(
      new TotemError(
        ErrorCode.LIBRARY,
        `gave up reconnecting after ${opts.attempts} attempts (${reason.message})`,
      ),
    );
  }

  private shutdown(error: TotemError | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.closeError = error;
    this.stop.abort();
    this.conn?.close();
    const err = error ?? new TotemError(ErrorCode.BAD_HANDLE, 'the client is closed');
    for (const w of this.waiters.splice(0)) w.reject(err);
    for (const sub of [...this.messageSubs]) sub.finish(error);
    for (const sub of [...this.changeSubs]) sub.finish(error);
    this.emit('close', error);
  }
}

function member(m: WireMember): CpgMember {
  return { nodeId: m.nodeId, pid: m.pid, reason: REASONS[m.reason] ?? 'member' };
}

function groupBytes(group: string): Uint8Array {
  if (typeof group !== 'string' || group.length === 0) {
    throw new TotemError(ErrorCode.INVALID_PARAM, 'a group name is a non-empty string');
  }
  const bytes = textEncoder.encode(group);
  if (bytes.length > MAX_CPG_GROUP_BYTES) {
    throw new TotemError(
      ErrorCode.NAME_TOO_LONG,
      `group name is ${bytes.length} bytes, at most ${MAX_CPG_GROUP_BYTES}`,
    );
  }
  return bytes;
}
