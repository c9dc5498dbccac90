/**
 * The client IPC wire format (the only encoder/decoder for it). Every frame is
 *
 *   length u32 (of the body, little-endian) · body
 *   body = type u8 · fields
 *
 *   HELLO    1  magic u32 · version u16 · pid u32 · nameLen u16 · name (UTF-8)      client → server
 *   WELCOME  2  version u16 · conn u32 · nodeId u32 · maxFrame u32                    server → client
 *   REQUEST  3  reqId u32 · service u16 · op u16 · payload (rest)                     client → server
 *   REPLY    4  reqId u32 · code u16 · payload (rest; UTF-8 text when code ≠ OK)     server → client
 *   EVENT    5  service u16 · event u16 · payload (rest)                               server → client
 *   FAREWELL 6  code u16 · text (rest, UTF-8): the server is closing this connection  server → client
 *
 * A frame whose length exceeds the agreed maximum is refused before its body is read.
 */
import { DecodeError } from '../wire/decode-error.js';
import { WireReader } from '../wire/reader.js';
import { WireWriter } from '../wire/writer.js';

export const IPC_MAGIC = 0x4d544f54; // "TOTM"
export const IPC_VERSION = 1;
/** Default largest frame body: a 1 MiB message plus headers and a group name. */
export const DEFAULT_MAX_FRAME = 1024 * 1024 + 4096;
export const FRAME_HEADER_BYTES = 4;
export const MAX_CLIENT_NAME_BYTES = 255;

export const FrameType = {
  Hello: 1,
  Welcome: 2,
  Request: 3,
  Reply: 4,
  Event: 5,
  Farewell: 6,
} as const;

export type Frame =
  | {
      readonly type: 'hello';
      readonly magic: number;
      readonly version: number;
      readonly pid: number;
      readonly name: string;
    }
  | {
      readonly type: 'welcome';
      readonly version: number;
      readonly conn: number;
      readonly nodeId: number;
      readonly maxFrame: number;
    }
  | {
      readonly type: 'request';
      readonly reqId: number;
      readonly service: number;
      readonly op: number;
      readonly payload: Uint8Array;
    }
  | { readonly type: 'reply'; readonly reqId: number; readonly code: number; readonly payload: Uint8Array }
  | { readonly type: 'event'; readonly service: number; readonly event: number; readonly payload: Uint8Array }
  | { readonly type: 'farewell'; readonly code: number; readonly text: string };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes one frame, length prefix included. */
export function encodeFrame(frame: Frame): Uint8Array {
  const w = new WireWriter(
    frame.type === 'request' || frame.type === 'reply' || frame.type === 'event'
      ? 16 + frame.payload.length
      : 64,
  );
  w.u32(0);
  switch (frame.type) {
    case 'hello': {
      const name = encoder.encode(frame.name);
      if (name.length > MAX_CLIENT_NAME_BYTES)
        throw new RangeError(`client name is ${name.length} bytes, at most ${MAX_CLIENT_NAME_BYTES}`);
      w.u8(FrameType.Hello).u32(frame.magic).u16(frame.version).u32(frame.pid).u16(name.length).bytes(name);
      break;
    }
    case 'welcome':
      w.u8(FrameType.Welcome).u16(frame.version).u32(frame.conn).u32(frame.nodeId).u32(frame.maxFrame);
      break;
    case 'request':
      w.u8(FrameType.Request).u32(frame.reqId).u16(frame.service).u16(frame.op).bytes(frame.payload);
      break;
    case 'reply':
      w.u8(FrameType.Reply).u32(frame.reqId).u16(frame.code).bytes(frame.payload);
      break;
    case 'event':
      w.u8(FrameType.Event).u16(frame.service).u16(frame.event).bytes(frame.payload);
      break;
    case 'farewell':
      w.u8(FrameType.Farewell).u16(frame.code).bytes(encoder.encode(frame.text));
      break;
  }
  w.patchU32(0, w.offset - FRAME_HEADER_BYTES);
  return w.finish();
}

/** Decodes one frame body (the bytes after the length prefix). Throws only DecodeError. */
export function decodeFrame(body: Uint8Array): Frame {
  const r = new WireReader(body, 'ipc frame');
  const type = r.u8();
  switch (type) {
    case FrameType.Hello: {
      const magic = r.u32();
      if (magic !== IPC_MAGIC) r.fail('bad-magic', 1);
      const version = r.u16();
      const pid = r.u32();
      const len = r.u16();
      if (len > MAX_CLIENT_NAME_BYTES) r.fail('bad-length');
      const name = text(r, r.bytesView(len));
      r.end();
      return { type: 'hello', magic, version, pid, name };
    }
    case FrameType.Welcome: {
      const version = r.u16();
      const conn = r.u32();
      const nodeId = r.u32();
      const maxFrame = r.u32();
      r.end();
      return { type: 'welcome', version, conn, nodeId, maxFrame };
    }
    case FrameType.Request: {
      const reqId = r.u32();
      const service = r.u16();
      const op = r.u16();
      return { type: 'request', reqId, service, op, payload: r.bytesView(r.remaining) };
    }
    case FrameType.Reply: {
      const reqId = r.u32();
      const code = r.u16();
      return { type: 'reply', reqId, code, payload: r.bytesView(r.remaining) };
    }
    case FrameType.Event: {
      const service = r.u16();
      const event = r.u16();
      return { type: 'event', service, event, payload: r.bytesView(r.remaining) };
    }
    case FrameType.Farewell: {
      const code = r.u16();
      return { type: 'farewell', code, text: text(r, r.bytesView(r.remaining)) };
    }
    default:
      return r.fail('bad-type', 0);
  }
}

function text(r: WireReader, bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch {
    return r.fail('bad-value');
  }
}

/**
 * Cuts a byte stream into frame bodies. Holds at most one partial frame; a length prefix
 * above `maxFrame` throws DecodeError('bad-length') before any of that body is buffered.
 */
export class FrameSplitter {
  private chunks: Uint8Array[] = [];
  private held = 0;

  constructor(private readonly maxFrame: number) {}

  /** Bytes received but not yet part of a whole frame. */
  get pendingBytes(): number {
    return this.held;
  }

  /** Adds received bytes; returns every frame body now complete (views into fresh buffers). */
  push(data: Uint8Array): Uint8Array[] {
    if (data.length > 0) {
      this.chunks.push(data);
      this.held += data.length;
    }
    const out: Uint8Array[] = [];
    for (;;) {
      if (this.held < FRAME_HEADER_BYTES) break;
      const head = this.peek(FRAME_HEADER_BYTES);
      const len = new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true);
      if (len > this.maxFrame) throw new DecodeError('bad-length', 'ipc frame length', 0);
      if (this.held < FRAME_HEADER_BYTES + len) break;
      const whole = this.take(FRAME_HEADER_BYTES + len);
      out.push(whole.subarray(FRAME_HEADER_BYTES));
    }
    return out;
  }

  private peek(n: number): Uint8Array {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    return this.gather(n, false);
  }

  private take(n: number): Uint8Array {
    return this.gather(n, true);
  }

  private gather(n: number, consume: boolean): Uint8Array {
    const first = this.chunks[0]!;
    if (consume && first.length >= n) {
      const piece = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.held -= n;
      return piece;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    let i = 0;
    while (filled < n) {
      const c = this.chunks[i]!;
      const use = Math.min(c.length, n - filled);
      out.set(c.subarray(0, use), filled);
      filled += use;
      if (consume) {
        if (use === c.length) {
          this.chunks.shift();
          continue;
        }
        this.chunks[0] = c.subarray(use);
      } else i++;
    }
    if (consume) this.held -= n;
    return out;
  }
}
