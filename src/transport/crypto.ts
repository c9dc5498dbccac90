/**
 * The envelope around every totem packet: who sent it, and (unless the cluster runs in
 * plain mode) authenticated encryption with a key shared by all nodes.
 *
 * Layout, little-endian (docs/crypto.md has the full story):
 *
 *   0  2  magic "TM" (0x54 0x4d)
 *   2  1  version (1)
 *   3  1  cipher id: 0 none, 1 aes256 (AES-256-GCM), 2 chacha20 (ChaCha20-Poly1305)
 *   4  4  sender node id
 *   8 12  nonce                     (sealed only)
 *   …     payload (plain) | ciphertext followed by a 16-byte tag (sealed)
 *
 * The whole header is the AEAD's additional data, so the sender id, cipher id and nonce
 * cannot be altered without failing authentication. Each sender encrypts with its own key,
 *   HKDF-SHA256(ikm = key file bytes, salt = "totem-envelope-v1",
 *               info = cipher name ‖ 0 ‖ cluster name ‖ 0 ‖ sender node id (u32 BE)),
 * so a packet from another cluster, another cipher, or claiming another sender does not
 * authenticate, and nonces only need to be unique per sender (see NonceSource).
 *
 * A packet that fails any check raises EnvelopeError; its payload bytes are never looked at.
 */
import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
} from 'node:crypto';
import type { NodeId } from '../core/io.js';
import { NonceSource, type RandomSource } from './nonce.js';

export type CipherName = 'aes256' | 'chacha20' | 'none';

export const ENVELOPE_MAGIC_0 = 0x54; // 'T'
export const ENVELOPE_MAGIC_1 = 0x4d; // 'M'
export const ENVELOPE_VERSION = 1;
export const PLAIN_HEADER_BYTES = 8;
export const NONCE_BYTES = 12;
export const SEALED_HEADER_BYTES = PLAIN_HEADER_BYTES + NONCE_BYTES;
export const TAG_BYTES = 16;

/** Wire ids of the ciphers; the index in this list is the id. Append only. */
export const CIPHER_IDS: readonly CipherName[] = ['none', 'aes256', 'chacha20'];

/** Node's names for the AEAD behind each cipher (documentation and the keygen/bench output). */
export const ALGORITHM: Readonly<Record<Exclude<CipherName, 'none'>, string>> = {
  aes256: 'aes-256-gcm',
  chacha20: 'chacha20-poly1305',
};

const HKDF_SALT = Buffer.from('totem-envelope-v1', 'utf8');

/** Why a packet was refused. The order is the recorder enum `envelopeReject` (append only). */
export const ENVELOPE_REJECTS = [
  'truncated',
  'bad-magic',
  'bad-version',
  'unknown-cipher',
  'cipher-mismatch',
  'unknown-sender',
  'auth-failed',
] as const;
export type EnvelopeReject = (typeof ENVELOPE_REJECTS)[number];

/**
 * A packet the envelope refused. Not a DecodeError: authentication failure is not a
 * malformed encoding, and the transport counts each reason separately.
 */
export class EnvelopeError extends Error {
  override readonly name = 'EnvelopeError';
  constructor(
    readonly reason: EnvelopeReject,
    /** Sender id from the header when it could be read, else 0. */
    readonly claimedSender: NodeId,
    readonly length: number,
  ) {
    super(`envelope: ${reason} (${length} bytes${claimedSender ? `, claims node ${claimedSender}` : ''})`);
  }
}

export interface Opened {
  readonly from: NodeId;
  /** A view into a fresh buffer (sealed) or into the received packet (plain). */
  readonly payload: Uint8Array;
}

export interface SealedOptions {
  readonly cipher: Exclude<CipherName, 'none'>;
  /** The shared key file's bytes (at least 32). */
  readonly key: Uint8Array;
  readonly clusterName: string;
  readonly localNodeId: NodeId;
  /** Which sender ids may be accepted (checked before any key is derived). Default: any nonzero. */
  readonly acceptSender?: (id: NodeId) => boolean;
  /** Randomness for the nonce prefix (tests replace it). */
  readonly random?: RandomSource;
}

export const MIN_KEY_BYTES = 32;
/** Bound on cached per-sender keys when no acceptSender predicate limits them. */
const MAX_CACHED_KEYS = 4096;

export class Envelope {
  readonly cipherId: number;
  /** Bytes the envelope adds to a payload. */
  readonly overhead: number;
  private readonly keys = new Map<NodeId, KeyObject>();
  private readonly nonces: NonceSource | undefined;
  private readonly localKey: KeyObject | undefined;

  private constructor(
    readonly cipher: CipherName,
    readonly localNodeId: NodeId,
    private readonly acceptSender: (id: NodeId) => boolean,
    private readonly keyBytes: Uint8Array | undefined,
    private readonly clusterName: string,
    random: RandomSource,
  ) {
    if (!Number.isInteger(localNodeId) || localNodeId < 1 || localNodeId > 0xffff_ffff) {
      throw new RangeError(`envelope: local node id must be 1..4294967295, got ${localNodeId}`);
    }
    this.cipherId = CIPHER_IDS.indexOf(cipher);
    this.overhead = cipher === 'none' ? PLAIN_HEADER_BYTES : SEALED_HEADER_BYTES + TAG_BYTES;
    if (cipher !== 'none') {
      this.nonces = new NonceSource(random);
      this.localKey = this.keyFor(localNodeId);
    }
  }

  /** Plain mode (`crypto_cipher: none`): the header only, nothing authenticated. */
  static plain(localNodeId: NodeId, acceptSender: (id: NodeId) => boolean = () => true): Envelope {
    return new Envelope('none', localNodeId, acceptSender, undefined, '', randomBytes);
  }

  static sealed(opts: SealedOptions): Envelope {
    if (opts.key.length < MIN_KEY_BYTES) {
      throw new RangeError(
        `envelope: the key has ${opts.key.length} bytes; at least ${MIN_KEY_BYTES} are needed`,
      );
    }
    if (!(opts.cipher in ALGORITHM)) throw new RangeError(`envelope: unknown cipher ${String(opts.cipher)}`);
    return new Envelope(
      opts.cipher,
      opts.localNodeId,
      opts.acceptSender ?? (() => true),
      Uint8Array.from(opts.key),
      opts.clusterName,
      opts.random ?? randomBytes,
    );
  }

  /** Wraps one payload for sending. */
  seal(payload: Uint8Array): Uint8Array {
    if (this.cipher === 'none') {
      const out = Buffer.allocUnsafe(PLAIN_HEADER_BYTES + payload.length);
      this.writeHeader(out);
      out.set(payload, PLAIN_HEADER_BYTES);
      return out;
    }
    const out = Buffer.allocUnsafe(SEALED_HEADER_BYTES + payload.length + TAG_BYTES);
    this.writeHeader(out);
    this.nonces!.next(out, PLAIN_HEADER_BYTES);
    const nonce = out.subarray(PLAIN_HEADER_BYTES, SEALED_HEADER_BYTES);
    const c = newCipher(this.cipher, this.localKey!, nonce);
    c.setAAD(out.subarray(0, SEALED_HEADER_BYTES));
    let at = SEALED_HEADER_BYTES;
    const body = c.update(payload);
    out.set(body, at);
    at += body.length;
    const tail = c.final();
    out.set(tail, at);
    at += tail.length;
    c.getAuthTag().copy(out, at);
    return out;
  }

  /** Checks and unwraps one received packet; throws EnvelopeError. */
  open(packet: Uint8Array): Opened {
    const n = packet.length;
    if (n < PLAIN_HEADER_BYTES) throw new EnvelopeError('truncated', 0, n);
    if (packet[0] !== ENVELOPE_MAGIC_0 || packet[1] !== ENVELOPE_MAGIC_1)
      throw new EnvelopeError('bad-magic', 0, n);
    if (packet[2] !== ENVELOPE_VERSION) throw new EnvelopeError('bad-version', 0, n);
    const id = packet[3]!;
    const from = (packet[4]! | (packet[5]! << 8) | (packet[6]! << 16) | (packet[7]! << 24)) >>> 0;
    if (id >= CIPHER_IDS.length) throw new EnvelopeError('unknown-cipher', from, n);
    if (id !== this.cipherId) throw new EnvelopeError('cipher-mismatch', from, n);
    if (from === 0 || !this.acceptSender(from)) throw new EnvelopeError('unknown-sender', from, n);
    if (this.cipher === 'none') return { from, payload: packet.subarray(PLAIN_HEADER_BYTES) };

    if (n < SEALED_HEADER_BYTES + TAG_BYTES) throw new EnvelopeError('truncated', from, n);
    const nonce = packet.subarray(PLAIN_HEADER_BYTES, SEALED_HEADER_BYTES);
    const d = newDecipher(this.cipher, this.keyFor(from), nonce);
    d.setAAD(packet.subarray(0, SEALED_HEADER_BYTES));
    d.setAuthTag(packet.subarray(n - TAG_BYTES));
    const body = d.update(packet.subarray(SEALED_HEADER_BYTES, n - TAG_BYTES));
    let tail: Buffer;
    try {
      tail = d.final();
    } catch {
      throw new EnvelopeError('auth-failed', from, n);
    }
    return { from, payload: tail.length === 0 ? body : Buffer.concat([body, tail]) };
  }

  private writeHeader(out: Buffer): void {
    out[0] = ENVELOPE_MAGIC_0;
    out[1] = ENVELOPE_MAGIC_1;
    out[2] = ENVELOPE_VERSION;
    out[3] = this.cipherId;
    out.writeUInt32LE(this.localNodeId, 4);
  }

  private keyFor(sender: NodeId): KeyObject {
    let key = this.keys.get(sender);
    if (key) return key;
    if (this.keys.size >= MAX_CACHED_KEYS) this.keys.clear();
    key = createSecretKey(deriveSenderKey(this.keyBytes!, this.cipher, this.clusterName, sender));
    this.keys.set(sender, key);
    return key;
  }
}

// The two branches differ only in their static types (GCM and ChaCha20-Poly1305 overloads).
function newCipher(cipher: Exclude<CipherName, 'none'>, key: KeyObject, nonce: Uint8Array) {
  return cipher === 'aes256'
    ? createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES })
    : createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
}

function newDecipher(cipher: Exclude<CipherName, 'none'>, key: KeyObject, nonce: Uint8Array) {
  return cipher === 'aes256'
    ? createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES })
    : createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_BYTES });
}

/** The per-sender packet key (exported for tests and the test vector in docs/crypto.md). */
export function deriveSenderKey(
  keyFile: Uint8Array,
  cipher: CipherName,
  clusterName: string,
  sender: NodeId,
): Buffer {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(sender >>> 0, 0);
  const info = Buffer.concat([
    Buffer.from(cipher, 'utf8'),
    Buffer.from([0]),
    Buffer.from(clusterName, 'utf8'),
    Buffer.from([0]),
    id,
  ]);
  return Buffer.from(hkdfSync('sha256', keyFile, HKDF_SALT, info, 32));
}
