/**
 * Application messages of the simulated workload. Each carries a world-unique id and its
 * sender, and a filler derived from the id, so a checker can tell any two messages apart
 * and notice a damaged one.
 *
 *   u32 magic · u32 msgId · u32 sender · u32 total length · filler (byte i = (msgId + i) & 255)
 */
import { allocBytes } from '../wire/slab.js';

export const PAYLOAD_MAGIC = 0x53494d31; // "SIM1"
export const PAYLOAD_HEADER = 16;

export function encodePayload(msgId: number, sender: number, length: number): Uint8Array {
  if (length < PAYLOAD_HEADER) throw new RangeError(`payload length ${length} < ${PAYLOAD_HEADER}`);
  const bytes = allocBytes(length);
  put32(bytes, 0, PAYLOAD_MAGIC);
  put32(bytes, 4, msgId);
  put32(bytes, 8, sender);
  put32(bytes, 12, length);
  for (let i = PAYLOAD_HEADER; i < length; i++) bytes[i] = (msgId + i) & 0xff;
  return bytes;
}

function put32(b: Uint8Array, at: number, v: number): void {
  b[at] = v;
  b[at + 1] = v >>> 8;
  b[at + 2] = v >>> 16;
  b[at + 3] = v >>> 24;
}

export interface DecodedPayload {
  readonly msgId: number;
  readonly sender: number;
}

/** Little-endian u32 at `at` (no DataView: this runs for every packet and delivery). */
function u32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** Decodes and verifies a payload; returns a reason string when it is not intact. */
export function decodePayload(bytes: Uint8Array): DecodedPayload | string {
  const damage = payloadDamage(bytes);
  if (damage !== undefined) return damage;
  return { msgId: u32(bytes, 4), sender: u32(bytes, 8) };
}

/**
 * Why a payload is not an intact workload message, or undefined when it is (then
 * peekMsgId and payloadSender read it): decodePayload's checks without a result object.
 */
export function payloadDamage(bytes: Uint8Array): string | undefined {
  if (bytes.length < PAYLOAD_HEADER) return `payload of ${bytes.length} bytes is too short`;
  if (u32(bytes, 0) !== PAYLOAD_MAGIC) return 'payload magic is wrong';
  const msgId = u32(bytes, 4);
  const length = u32(bytes, 12);
  if (length !== bytes.length) return `payload ${msgId} says ${length} bytes but has ${bytes.length}`;
  for (let i = PAYLOAD_HEADER; i < length; i++) {
    if (bytes[i] !== ((msgId + i) & 0xff)) return `payload ${msgId} is damaged at byte ${i}`;
  }
  return undefined;
}

/** The sender a payload names (read it only after payloadDamage found none). */
export function payloadSender(bytes: Uint8Array): number {
  return u32(bytes, 8);
}

/** Reads only the id (for receipt tracking); -1 when the bytes are not a workload payload. */
export function peekMsgId(bytes: Uint8Array): number {
  if (bytes.length < PAYLOAD_HEADER || u32(bytes, 0) !== PAYLOAD_MAGIC) return -1;
  return u32(bytes, 4);
}
