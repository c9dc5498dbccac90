import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { RingSeqStore, RingSeqStoreError } from '../../src/runtime/ring-seq-store.js';

const dir = mkdtempSync(join(tmpdir(), 'totem-ringseq-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('nothing stored yet reads as 0; a saved seq reads back, in a 0600 file per node, no temporary left', () => {
  const store = new RingSeqStore(join(dir, 'a'), 7);
  assert.equal(store.load(), 0);
  store.save(44);
  store.save(48);
  assert.equal(new RingSeqStore(join(dir, 'a'), 7).load(), 48);
  assert.equal(new RingSeqStore(join(dir, 'a'), 8).load(), 0, 'another node has its own file');
  assert.equal(readFileSync(store.path, 'utf8'), '48\n');
  assert.equal(statSync(store.path).mode & 0o777, 0o600);
  assert.deepEqual(readdirSync(join(dir, 'a')), ['ringseq-7']);
});

test('a damaged file is an error naming the file, never a silent 0', () => {
  const store = new RingSeqStore(dir, 3);
  for (const text of ['', 'x\n', '-4\n', '12 13\n', '99999999999999999\n']) {
    writeFileSync(store.path, text);
    assert.throws(
      () => store.load(),
      (e: unknown) => e instanceof RingSeqStoreError && e.message.includes(store.path),
    );
  }
});

test('a seq that is not a safe non-negative integer is refused', () => {
  const store = new RingSeqStore(dir, 4);
  assert.throws(() => store.save(2 ** 53), RingSeqStoreError);
  assert.throws(() => store.save(-1), RingSeqStoreError);
  assert.throws(() => store.save(1.5), RingSeqStoreError);
});
