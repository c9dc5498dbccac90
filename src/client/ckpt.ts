/**
 * The Node client library for checkpoints: `import { Ckpt } from 'totem'`.
 *
 *   const ckpt = await Ckpt.connect({ socket: '/run/totem/totem.sock' });
 *   const cp = await ckpt.open('state', { create: { maxSections: 4, maxSectionSize: 4096 } });
 *   await cp.createSection('config', 'v1');
 *   console.log(new TextDecoder().decode(await cp.read('config')));
 *
 * Every call answers once the daemon did (updates: once applied on every replica in ring
 * order). Failures reject with CkptError (a TotemError carrying the exact AIS name) or with a
 * TotemError (LIBRARY: connection lost or client closed). TRY_AGAIN (send queue full, sync
 * round) is retried with a bounded backoff unless told not to.
 *
 * Reconnecting: when the daemon goes away, pending calls reject with LIBRARY and the daemon
 * closes the connection's handles. The next call connects again; handles opened on the lost
 * connection then reject with BAD_HANDLE (open the checkpoint again: its data is replicated).
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCode, TotemError } from '../ipc/errors.js';
import { AisError, type AisErrorName } from '../services/ckpt/errors.js';
import {
  type CheckpointSummary,
  CKPT_SERVICE_ID,
  type CkptWireRequest,
  decodeDescriptorReply,
  decodeEmptyReply,
  decodeHandleReply,
  decodeListReply,
  decodeReadReply,
  decodeSectionIdReply,
  decodeStatusReply,
  encodeRequest,
  parseAisErrorText,
} from '../services/ckpt/ipc-protocol.js';
import {
  type CheckpointStatus,
  type CreationAttributes,
  CreationFlags,
  OpenFlags,
  type SectionDescriptor,
  SectionsChosen,
  TIME_END,
} from '../services/ckpt/types.js';
import { DecodeError } from '../wire/decode-error.js';
import { abortable, clientName } from './call-helpers.js';
import { IpcConnection } from './ipc-connection.js';

export { type CheckpointStatus, type CheckpointSummary, type CreationAttributes, CreationFlags, TIME_END };

/** A section id: bytes, or a string (its UTF-8 bytes). */
export type SectionId = Uint8Array | string;
/** Section data: bytes, or a string (its UTF-8 bytes). */
export type SectionData = Uint8Array | string;

/** A failed checkpoint call: `aisName` is the SA Forum AIS error (e.g. 'NO_SPACE'). */
export class CkptError extends TotemError {
  readonly aisName: AisErrorName;
  readonly aisCode: number;
  constructor(
    code: ErrorCode,
    aisName: AisErrorName,
    /** For write/read of several elements: the element that failed. */
    readonly errorIndex: number | undefined,
    readonly detail: string,
  ) {
    const index = errorIndex === undefined ? '' : ` (element ${errorIndex})`;
    super(code, `SA_AIS_ERR_${aisName}${index}${detail ? `: ${detail}` : ''}`);
    this.aisName = aisName;
    this.aisCode = AisError[aisName];
  }
}

export interface RetryOptions {
  /** Attempts in all, the first included (default 100). */
  readonly attempts?: number;
  readonly initialDelayMs?: number;
  readonly maxDelayMs?: number;
}

export interface CkptConnectOptions {
  /** Path of the daemon's IPC socket. */
  readonly socket: string;
  /** Shown in the daemon's flight recorder (default: the script name). */
  readonly name?: string;
  readonly pid?: number;
  readonly signal?: AbortSignal;
  /** TRY_AGAIN handling for every call (false: reject at once). */
  readonly retry?: RetryOptions | false;
}

export interface CallOptions {
  /** Stops waiting (an update already sent may still be applied). */
  readonly signal?: AbortSignal;
  readonly retry?: RetryOptions | false;
}

/** Creation attributes; every field has a default (see DEFAULT_CREATION). */
export type CreateOptions = Partial<CreationAttributes>;

export interface OpenOptions extends CallOptions {
  /** Open for reading (default true). */
  readonly read?: boolean;
  /** Open for writing (default true). */
  readonly write?: boolean;
  /** Create the checkpoint if it does not exist, with these attributes (true: the defaults). */
  readonly create?: CreateOptions | true;
}

export interface SectionOptions extends CallOptions {
  /** Absolute expiration time (ms, the daemon's clock; default TIME_END: never). */
  readonly expiration?: number;
}

export interface ReadOptions extends CallOptions {
  readonly offset?: number;
  /** Bytes wanted (default: the checkpoint's maxSectionSize, i.e. to the end). */
  readonly size?: number;
}

export type SectionsChosenName = 'forever' | 'leq-expiration' | 'geq-expiration' | 'corrupted' | 'any';

export interface IterateOptions extends CallOptions {
  /** Which sections (default 'any'). */
  readonly chosen?: SectionsChosenName;
  /** The bound for 'leq-expiration' / 'geq-expiration'. */
  readonly expirationTime?: number;
}

export interface Section {
  readonly id: Uint8Array;
  /** The id as UTF-8 text. */
  readonly name: string;
  readonly expirationTime: number;
  readonly size: number;
  readonly lastUpdate: number;
}

export const DEFAULT_CREATION: CreationAttributes = {
  creationFlags: CreationFlags.WrAllReplicas,
  checkpointSize: 16 * 65536,
  retentionDuration: TIME_END,
  maxSections: 16,
  maxSectionSize: 65536,
  maxSectionIdSize: 64,
};

const CHOSEN: Record<SectionsChosenName, SectionsChosen> = {
  forever: SectionsChosen.Forever,
  'leq-expiration': SectionsChosen.LeqExpirationTime,
  'geq-expiration': SectionsChosen.GeqExpirationTime,
  corrupted: SectionsChosen.Corrupted,
  any: SectionsChosen.Any,
};

const DEFAULT_RETRY: Required<RetryOptions> = { attempts: 100, initialDelayMs: 1, maxDelayMs: 100 };
const MAX_NAME_WIRE_BYTES = 0xffff;
const MAX_ID_BYTES = 0xffff;
const MAX_U32 = 0xffffffff;
const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder();

export class Ckpt {
  private conn: IpcConnection | undefined;
  private connecting: Promise<IpcConnection> | undefined;
  private generation = 0;
  private closed = false;
  private readonly retry: Required<RetryOptions> | false;

  private constructor(private readonly opts: CkptConnectOptions) {
    this.retry = opts.retry === false ? false : { ...DEFAULT_RETRY, ...opts.retry };
  }

  /** Connects and completes the handshake; rejects with TotemError (LIBRARY when unreachable). */
  static async connect(opts: CkptConnectOptions): Promise<Ckpt> {
    const ckpt = new Ckpt(opts);
    await ckpt.connection(opts.signal);
    return ckpt;
  }

  /** This node's id, as the daemon stated it. */
  get nodeId(): number {
    return this.conn?.nodeId ?? 0;
  }

  get connected(): boolean {
    return this.conn?.isOpen ?? false;
  }

  /** Opens (with `create`: creates if absent) the checkpoint `name`. */
  async open(name: string, opts: OpenOptions = {}): Promise<CheckpointHandle> {
    checkName(name);
    const flags =
      (opts.read === false ? 0 : OpenFlags.Read) |
      (opts.write === false ? 0 : OpenFlags.Write) |
      (opts.create ? OpenFlags.Create : 0);
    const attributes = opts.create ? creationAttributes(opts.create === true ? {} : opts.create) : undefined;
    const req: CkptWireRequest = attributes
      ? { kind: 'open', name, flags, attributes }
      : { kind: 'open', name, flags };
    const { payload, generation } = await this.call(req, opts);
    return new CheckpointHandle(this, name, decode(decodeHandleReply, payload), generation, attributes);
  }

  /** Removes the name; the checkpoint lives on until its last handle closes. */
  async unlink(name: string, opts: CallOptions = {}): Promise<void> {
    checkName(name);
    decode(decodeEmptyReply, (await this.call({ kind: 'unlink', name }, opts)).payload);
  }

  /** Every linked checkpoint in the cluster (this node's replica), sorted by name. */
  async list(opts: CallOptions = {}): Promise<CheckpointSummary[]> {
    return decode(decodeListReply, (await this.call({ kind: 'list' }, opts)).payload);
  }

  /** Closes the connection; the daemon closes every handle this client still holds. */
  async close(): Promise<void> {
    this.closed = true;
    this.conn?.close();
  }

  /** @internal One request, TRY_AGAIN retried; resolves with the reply and the connection it used. */
  async call(
    req: CkptWireRequest,
    opts: CallOptions,
    generation?: number,
  ): Promise<{ payload: Uint8Array; generation: number }> {
    const retry =
      opts.retry === undefined
        ? this.retry
        : opts.retry === false
          ? false
          : { ...DEFAULT_RETRY, ...opts.retry };
    const { op, payload } = encodeRequest(req);
    let delay = retry ? retry.initialDelayMs : 0;
    for (let attempt = 1; ; attempt++) {
      opts.signal?.throwIfAborted();
      const conn = await this.connection(opts.signal);
      if (generation !== undefined && generation !== this.generation) {
        throw new CkptError(
          ErrorCode.BAD_HANDLE,
          'BAD_HANDLE',
          undefined,
          'opened on a connection that was lost; open the checkpoint again',
        );
      }
      const used = this.generation;
      try {
        const reply = await abortable(conn.request(CKPT_SERVICE_ID, op, payload), opts.signal);
        return { payload: reply, generation: used };
      } catch (err) {
        const typed = typedError(err);
        if (
          !(typed instanceof TotemError) ||
          typed.code !== ErrorCode.TRY_AGAIN ||
          !retry ||
          attempt >= retry.attempts
        )
          throw typed;
        await sleep(delay, undefined, opts.signal ? { signal: opts.signal } : {});
        delay = Math.min(Math.max(delay * 2, 1), retry.maxDelayMs);
      }
    }
  }

  private async connection(signal?: AbortSignal): Promise<IpcConnection> {
    if (this.closed) throw new TotemError(ErrorCode.BAD_HANDLE, 'the client is closed');
    if (this.conn?.isOpen) return this.conn;
    this.connecting ??= IpcConnection.open({
      socket: this.opts.socket,
      name: this.opts.name ?? clientName(),
      pid: this.opts.pid ?? process.pid,
      ...(signal ? { signal } : {}),
      onEvent: () => {},
      onClose: () => {},
    }).then(
      (conn) => {
        this.connecting = undefined;
        if (this.closed) {
          conn.close();
          throw new TotemError(ErrorCode.BAD_HANDLE, 'the client is closed');
        }
        this.conn = conn;
        this.generation++;
        return conn;
      },
      (err: unknown) => {
        this.connecting = undefined;
        throw err;
      },
    );
    return abortable(this.connecting, signal);
  }
}

/** An open checkpoint: valid until closed, or until the connection it was opened on is lost. */
export class CheckpointHandle {
  private closedLocally = false;

  /** @internal */
  constructor(
    private readonly ckpt: Ckpt,
    readonly name: string,
    /** The daemon's handle number (per node, per connection). */
    readonly handle: number,
    private readonly generation: number,
    private attributes: CreationAttributes | undefined,
  ) {}

  /** Closes the handle (the last close of a linked checkpoint starts its retention). */
  async close(opts: CallOptions = {}): Promise<void> {
    if (this.closedLocally) return;
    await this.update({ kind: 'close', handle: this.handle }, opts);
    this.closedLocally = true;
  }

  /** How long the checkpoint survives once nobody has it open (ms; TIME_END: forever). */
  async setRetention(durationMs: number, opts: CallOptions = {}): Promise<void> {
    await this.update({ kind: 'retentionDurationSet', handle: this.handle, duration: durationMs }, opts);
  }

  /** Creates a section; `id` undefined lets the daemon generate one. Resolves with the id. */
  async createSection(
    id: SectionId | undefined,
    data: SectionData = new Uint8Array(0),
    opts: SectionOptions = {},
  ): Promise<Uint8Array> {
    const sectionId = id === undefined ? undefined : idBytes(id);
    const reply = await this.send(
      {
        kind: 'sectionCreate',
        handle: this.handle,
        ...(sectionId ? { sectionId } : {}),
        expirationTime: opts.expiration ?? TIME_END,
        initialData: dataBytes(data),
      },
      opts,
    );
    return decode(decodeSectionIdReply, reply);
  }

  async deleteSection(id: SectionId, opts: CallOptions = {}): Promise<void> {
    await this.update({ kind: 'sectionDelete', handle: this.handle, sectionId: idBytes(id) }, opts);
  }

  /** Writes `data` at `offset` (default 0), extending the section. */
  async write(id: SectionId, data: SectionData, opts: CallOptions & { offset?: number } = {}): Promise<void> {
    await this.writeMany([{ id, data, offset: opts.offset ?? 0 }], opts);
  }

  /** Several writes applied in order as one update; stops at the first failure (its errorIndex). */
  async writeMany(
    elements: readonly { id: SectionId; data: SectionData; offset?: number }[],
    opts: CallOptions = {},
  ): Promise<void> {
    await this.update(
      {
        kind: 'write',
        handle: this.handle,
        elements: elements.map((e) => ({
          sectionId: idBytes(e.id),
          offset: u32(e.offset ?? 0, 'offset'),
          data: dataBytes(e.data),
        })),
      },
      opts,
    );
  }

  /** Replaces the section's whole data. */
  async overwrite(id: SectionId, data: SectionData, opts: CallOptions = {}): Promise<void> {
    await this.update(
      { kind: 'overwrite', handle: this.handle, sectionId: idBytes(id), data: dataBytes(data) },
      opts,
    );
  }

  /** Reads a section (from this node's replica). */
  async read(id: SectionId, opts: ReadOptions = {}): Promise<Uint8Array> {
    const [data] = await this.readMany([{ id, offset: opts.offset ?? 0, ...sizeOf(opts) }], opts);
    return data!;
  }

  /** Reads several sections in one request; one buffer per element. */
  async readMany(
    elements: readonly { id: SectionId; offset?: number; size?: number }[],
    opts: CallOptions = {},
  ): Promise<Uint8Array[]> {
    const needDefault = elements.some((e) => e.size === undefined);
    const maxSize = needDefault ? (await this.attributesOf(opts)).maxSectionSize : 0;
    const reply = await this.send(
      {
        kind: 'read',
        handle: this.handle,
        elements: elements.map((e) => ({
          sectionId: idBytes(e.id),
          offset: u32(e.offset ?? 0, 'offset'),
          size: u32(e.size ?? maxSize, 'size'),
        })),
      },
      opts,
    );
    return decode(decodeReadReply, reply);
  }

  /** Sets a section's absolute expiration time (ms, the daemon's clock; TIME_END: never). */
  async setExpiration(id: SectionId, expirationTime: number, opts: CallOptions = {}): Promise<void> {
    await this.update(
      { kind: 'expirationTimeSet', handle: this.handle, sectionId: idBytes(id), expirationTime },
      opts,
    );
  }

  /**
   * The sections chosen, sorted by id, as a snapshot taken when iteration starts. Breaking out
   * of the loop finalizes the daemon's iteration.
   */
  async *sections(opts: IterateOptions = {}): AsyncGenerator<Section, void, undefined> {
    const chosen = CHOSEN[opts.chosen ?? 'any'];
    if (chosen === undefined) throw new TotemError(ErrorCode.INVALID_PARAM, `unknown chosen ${opts.chosen}`);
    const iteration = decode(
      decodeHandleReply,
      await this.send(
        {
          kind: 'iterationInitialize',
          handle: this.handle,
          sectionsChosen: chosen,
          expirationTime: opts.expirationTime ?? TIME_END,
        },
        opts,
      ),
    );
    let finished = false;
    try {
      for (;;) {
        let reply: Uint8Array;
        try {
          reply = await this.send({ kind: 'iterationNext', iteration }, opts);
        } catch (err) {
          if (err instanceof CkptError && err.aisName === 'NO_SECTIONS') break;
          if (err instanceof TotemError && err.code === ErrorCode.LIBRARY) finished = true;
          throw err;
        }
        const d: SectionDescriptor = decode(decodeDescriptorReply, reply);
        yield {
          id: d.sectionId,
          name: textDecoder.decode(d.sectionId),
          expirationTime: d.expirationTime,
          size: d.sectionSize,
          lastUpdate: d.lastUpdate,
        };
      }
    } finally {
      if (!finished) {
        await this.send({ kind: 'iterationFinalize', iteration }, {}).catch(() => {});
      }
    }
  }

  async status(opts: CallOptions = {}): Promise<CheckpointStatus> {
    const s = decode(decodeStatusReply, await this.send({ kind: 'status', handle: this.handle }, opts));
    this.attributes = s.attributes;
    return s;
  }

  /** Resolves once every earlier update to this checkpoint is applied (BAD_OPERATION for WR_ALL_REPLICAS). */
  async synchronize(opts: CallOptions = {}): Promise<void> {
    await this.update({ kind: 'synchronize', handle: this.handle }, opts);
  }

  private async attributesOf(opts: CallOptions): Promise<CreationAttributes> {
    return this.attributes ?? (await this.status(opts)).attributes;
  }

  private async update(req: CkptWireRequest, opts: CallOptions): Promise<void> {
    decode(decodeEmptyReply, await this.send(req, opts));
  }

  private async send(req: CkptWireRequest, opts: CallOptions): Promise<Uint8Array> {
    if (this.closedLocally)
      throw new CkptError(ErrorCode.BAD_HANDLE, 'BAD_HANDLE', undefined, 'handle closed');
    return (await this.ckpt.call(req, opts, this.generation)).payload;
  }
}

function creationAttributes(c: CreateOptions): CreationAttributes {
  const maxSections = c.maxSections ?? DEFAULT_CREATION.maxSections;
  const maxSectionSize = c.maxSectionSize ?? DEFAULT_CREATION.maxSectionSize;
  return {
    creationFlags: c.creationFlags ?? DEFAULT_CREATION.creationFlags,
    checkpointSize: c.checkpointSize ?? maxSections * maxSectionSize,
    retentionDuration: c.retentionDuration ?? DEFAULT_CREATION.retentionDuration,
    maxSections: u32(maxSections, 'maxSections'),
    maxSectionSize: u32(maxSectionSize, 'maxSectionSize'),
    maxSectionIdSize: u32(c.maxSectionIdSize ?? DEFAULT_CREATION.maxSectionIdSize, 'maxSectionIdSize'),
  };
}

function typedError(err: unknown): unknown {
  if (!(err instanceof TotemError) || err instanceof CkptError) return err;
  const prefix = `${err.codeName}: `;
  const text = err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
  const ais = parseAisErrorText(text);
  return ais ? new CkptError(err.code, ais.aisName, ais.errorIndex, ais.detail) : err;
}

function decode<T>(fn: (payload: Uint8Array) => T, payload: Uint8Array): T {
  try {
    return fn(payload);
  } catch (err) {
    if (err instanceof DecodeError) {
      throw new TotemError(ErrorCode.PROTOCOL, `malformed ckpt reply: ${err.message}`);
    }
    throw err;
  }
}

function checkName(name: string): void {
  if (typeof name !== 'string') throw invalid('a checkpoint name is a string');
  const n = textEncoder.encode(name).length;
  // The daemon checks the name (256 bytes at most); this only keeps it encodable.
  if (n > MAX_NAME_WIRE_BYTES) {
    throw new CkptError(ErrorCode.NAME_TOO_LONG, 'NAME_TOO_LONG', undefined, `${n} bytes`);
  }
}

function idBytes(id: SectionId): Uint8Array {
  const bytes = typeof id === 'string' ? textEncoder.encode(id) : id;
  if (!(bytes instanceof Uint8Array)) throw invalid('a section id is a string or a Uint8Array');
  if (bytes.length > MAX_ID_BYTES) throw invalid(`section id of ${bytes.length} bytes`);
  return bytes;
}

function dataBytes(data: SectionData): Uint8Array {
  const bytes = typeof data === 'string' ? textEncoder.encode(data) : data;
  if (!(bytes instanceof Uint8Array)) throw invalid('section data is a string or a Uint8Array');
  return bytes;
}

function u32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > MAX_U32) throw invalid(`${what} must be an integer in 0..2^32-1`);
  return v;
}

function sizeOf(opts: ReadOptions): { size?: number } {
  return opts.size === undefined ? {} : { size: opts.size };
}

function invalid(detail: string): CkptError {
  return new CkptError(ErrorCode.INVALID_PARAM, 'INVALID_PARAM', undefined, detail);
}
