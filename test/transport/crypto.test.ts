import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  deriveSenderKey,
  Envelope,
  EnvelopeError,
  type EnvelopeReject,
  PLAIN_HEADER_BYTES,
  SEALED_HEADER_BYTES,
  TAG_BYTES,
} from '../../src/transport/crypto.js';
import { NonceSource } from '../../src/transport/nonce.js';

const KEY = randomBytes(128);
const CIPHERS = ['aes256', 'chacha20'] as const;

function pair(cipher: (typeof CIPHERS)[number], opts: { key?: Uint8Array; cluster?: string } = {}) {
  const sender = Envelope.sealed({ cipher, key: KEY, clusterName: 'alpha', localNodeId: 1 });
  const receiver = Envelope.sealed({
    cipher,
    key: opts.key ?? KEY,
    clusterName: opts.cluster ?? 'alpha',
    localNodeId: 2,
  });
  return { sender, receiver };
}

function rejects(fn: () => unknown, reason: EnvelopeReject): void {
  assert.throws(fn, (e: unknown) => e instanceof EnvelopeError && e.reason === reason);
}

for (const cipher of CIPHERS) {
  test(`${cipher}: round trip of every size 0..1500 bytes carries the sender id`, () => {
    const { sender, receiver } = pair(cipher);
    for (let size = 0; size <= 1500; size += 37) {
      const payload = randomBytes(size);
      const packet = sender.seal(payload);
      assert.equal(packet.length, size + SEALED_HEADER_BYTES + TAG_BYTES);
      assert.equal(sender.overhead, SEALED_HEADER_BYTES + TAG_BYTES);
      const opened = receiver.open(packet);
      assert.equal(opened.from, 1);
      assert.deepEqual(Buffer.from(opened.payload), payload);
    }
  });

  test(`${cipher}: the payload is not visible in the packet`, () => {
    const { sender } = pair(cipher);
    const payload = Buffer.alloc(256, 0x41);
    const packet = Buffer.from(sender.seal(payload));
    assert.equal(packet.includes(Buffer.alloc(16, 0x41)), false);
  });

  test(`${cipher}: flipping any bit of any byte is rejected`, () => {
    const { sender, receiver } = pair(cipher);
    const packet = Buffer.from(sender.seal(randomBytes(100)));
    for (let i = 0; i < packet.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const bad = Buffer.from(packet);
        bad[i]! ^= bit;
        assert.throws(
          () => receiver.open(bad),
          (e: unknown) => e instanceof EnvelopeError,
          `byte ${i} bit ${bit} was accepted`,
        );
      }
    }
  });

  test(`${cipher}: tampering with the body or the tag is an authentication failure`, () => {
    const { sender, receiver } = pair(cipher);
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 0, maxLength: 300 }),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        (payload, where, x) => {
          const packet = Buffer.from(sender.seal(payload));
          const at = SEALED_HEADER_BYTES + (where % (packet.length - SEALED_HEADER_BYTES));
          packet[at]! ^= x;
          rejects(() => receiver.open(packet), 'auth-failed');
        },
      ),
      { numRuns: 300 },
    );
  });

  test(`${cipher}: a changed sender id or nonce fails authentication`, () => {
    const { sender, receiver } = pair(cipher);
    const packet = Buffer.from(sender.seal(randomBytes(40)));
    const otherSender = Buffer.from(packet);
    otherSender.writeUInt32LE(3, 4);
    rejects(() => receiver.open(otherSender), 'auth-failed');
    const otherNonce = Buffer.from(packet);
    otherNonce[PLAIN_HEADER_BYTES + 11]! ^= 1;
    rejects(() => receiver.open(otherNonce), 'auth-failed');
  });

  test(`${cipher}: wrong key or wrong cluster name is rejected`, () => {
    const wrongKey = pair(cipher, { key: randomBytes(128) });
    rejects(() => wrongKey.receiver.open(wrongKey.sender.seal(randomBytes(10))), 'auth-failed');
    const wrongCluster = pair(cipher, { cluster: 'beta' });
    rejects(() => wrongCluster.receiver.open(wrongCluster.sender.seal(randomBytes(10))), 'auth-failed');
  });

  test(`${cipher}: truncated packets give a typed error`, () => {
    const { sender, receiver } = pair(cipher);
    const packet = sender.seal(randomBytes(50));
    for (let len = 0; len < SEALED_HEADER_BYTES + TAG_BYTES; len++) {
      assert.throws(
        () => receiver.open(packet.subarray(0, len)),
        (e: unknown) => e instanceof EnvelopeError && e.reason === 'truncated',
        `length ${len}`,
      );
    }
    // Longer than the minimum but cut: the tag is then wrong.
    rejects(() => receiver.open(packet.subarray(0, packet.length - 1)), 'auth-failed');
  });

  test(`${cipher}: nonces never repeat over many packets`, () => {
    const { sender } = pair(cipher);
    const seen = new Set<string>();
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const p = sender.seal(new Uint8Array(0));
      seen.add(Buffer.from(p.subarray(PLAIN_HEADER_BYTES, SEALED_HEADER_BYTES)).toString('hex'));
    }
    assert.equal(seen.size, n);
  });
}

test('header checks: magic, version, cipher id, sender', () => {
  const aes = Envelope.sealed({ cipher: 'aes256', key: KEY, clusterName: 'alpha', localNodeId: 1 });
  const chacha = Envelope.sealed({ cipher: 'chacha20', key: KEY, clusterName: 'alpha', localNodeId: 2 });
  const plain = Envelope.plain(3);
  const packet = Buffer.from(aes.seal(randomBytes(20)));
  const badMagic = Buffer.from(packet);
  badMagic[0] = 0x70;
  rejects(() => chacha.open(badMagic), 'bad-magic');
  const badVersion = Buffer.from(packet);
  badVersion[2] = 9;
  rejects(() => chacha.open(badVersion), 'bad-version');
  const unknownCipher = Buffer.from(packet);
  unknownCipher[3] = 7;
  rejects(() => chacha.open(unknownCipher), 'unknown-cipher');
  rejects(() => chacha.open(packet), 'cipher-mismatch');
  rejects(() => plain.open(packet), 'cipher-mismatch');
  rejects(() => aes.open(plain.seal(randomBytes(5))), 'cipher-mismatch');
  const zeroSender = Buffer.from(plain.seal(randomBytes(5)));
  zeroSender.writeUInt32LE(0, 4);
  rejects(() => plain.open(zeroSender), 'unknown-sender');
  const picky = Envelope.sealed({
    cipher: 'aes256',
    key: KEY,
    clusterName: 'alpha',
    localNodeId: 2,
    acceptSender: (id) => id === 5,
  });
  rejects(() => picky.open(packet), 'unknown-sender');
  assert.throws(
    () => aes.open(new Uint8Array(3)),
    (e: unknown) => e instanceof EnvelopeError && e.message === 'envelope: truncated (3 bytes)',
  );
});

test('plain mode: an 8-byte header, the payload untouched', () => {
  const a = Envelope.plain(7);
  const b = Envelope.plain(8);
  const payload = randomBytes(33);
  const packet = a.seal(payload);
  assert.equal(packet.length, 33 + PLAIN_HEADER_BYTES);
  assert.deepEqual(Buffer.from(packet.subarray(0, 8)), Buffer.from([0x54, 0x4d, 1, 0, 7, 0, 0, 0]));
  const opened = b.open(packet);
  assert.equal(opened.from, 7);
  assert.deepEqual(Buffer.from(opened.payload), payload);
});

test('keys: too short refused; per-sender derivation differs by every input', () => {
  assert.throws(
    () => Envelope.sealed({ cipher: 'aes256', key: new Uint8Array(16), clusterName: 'a', localNodeId: 1 }),
    /the key has 16 bytes; at least 32 are needed/,
  );
  const base = deriveSenderKey(KEY, 'aes256', 'alpha', 1).toString('hex');
  assert.notEqual(deriveSenderKey(KEY, 'aes256', 'alpha', 2).toString('hex'), base);
  assert.notEqual(deriveSenderKey(KEY, 'chacha20', 'alpha', 1).toString('hex'), base);
  assert.notEqual(deriveSenderKey(KEY, 'aes256', 'alphb', 1).toString('hex'), base);
  assert.equal(deriveSenderKey(KEY, 'aes256', 'alpha', 1).toString('hex'), base);
  // The cluster name and the sender id are separated, so they cannot slide into each other.
  assert.notEqual(
    deriveSenderKey(KEY, 'aes256', 'a\u0000', 1).toString('hex'),
    deriveSenderKey(KEY, 'aes256', 'a', 1).toString('hex'),
  );
});

test('nonce source: the prefix is replaced (never reused back to back) when the counter runs out', () => {
  const draws = [Buffer.alloc(8, 1), Buffer.alloc(8, 1), Buffer.alloc(8, 2), Buffer.alloc(8, 3)];
  let i = 0;
  const source = new NonceSource(() => draws[i++]!, 3);
  const out = Buffer.alloc(12);
  const seen: string[] = [];
  for (let k = 0; k < 7; k++) {
    source.next(out, 0);
    seen.push(out.toString('hex'));
  }
  assert.equal(new Set(seen).size, 7);
  assert.deepEqual(
    seen.map((s) => s.slice(0, 16)),
    [
      '0101010101010101',
      '0101010101010101',
      '0101010101010101',
      '0202020202020202',
      '0202020202020202',
      '0202020202020202',
      '0303030303030303',
    ],
  );
  assert.equal(source.prefixes, 3);
  assert.deepEqual(
    seen.map((s) => s.slice(16)),
    ['00000000', '00000001', '00000002', '00000000', '00000001', '00000002', '00000000'],
  );
});

test('test vectors of docs/crypto.md (HKDF and AES-GCM checked independently with Python)', () => {
  const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
  assert.equal(
    deriveSenderKey(key, 'aes256', 'alpha', 1).toString('hex'),
    '11560bf0e2469f9b317f964299a0f7290bc2af05969bb9d4687e222e45cdbb25',
  );
  const fixedPrefix = () => Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]);
  const vectors = {
    aes256: '544d01010100000001020304050607080000000041a01998cd7472364824696c5c1dbd4d3cea75d4ed',
    chacha20: '544d010201000000010203040506070800000000c97665038eee056aa258e9a2f59fe1c8b0f1e5cbc5',
  };
  for (const cipher of CIPHERS) {
    const e = Envelope.sealed({ cipher, key, clusterName: 'alpha', localNodeId: 1, random: fixedPrefix });
    const packet = e.seal(Buffer.from('totem'));
    assert.equal(Buffer.from(packet).toString('hex'), vectors[cipher]);
    const r = Envelope.sealed({ cipher, key, clusterName: 'alpha', localNodeId: 2 });
    assert.equal(Buffer.from(r.open(packet).payload).toString(), 'totem');
  }
});
