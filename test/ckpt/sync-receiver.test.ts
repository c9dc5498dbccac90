import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RingId } from '../../src/core/io.js';
import { CkptSyncProtocolError } from '../../src/services/ckpt/errors.js';
import { SyncReceiver } from '../../src/services/ckpt/sync-round.js';
import { TIME_END } from '../../src/services/ckpt/types.js';
import { SyncKind, type SyncMessage } from '../../src/services/ckpt/wire.js';
import { ATTRS, bytes } from './cluster.js';

const ringId: RingId = { rep: 1, seq: 8 };
const hello = (
  sender: boolean,
  groupSize = 1,
  handles: { ckptId: string; count: number }[] = [],
): SyncMessage => ({
  kind: SyncKind.Hello,
  ringId,
  sender,
  groupSize,
  time: 100,
  handles,
});
const ckpt = (id: string, sections: number, name = id, unlinked = false): SyncMessage => ({
  kind: SyncKind.Checkpoint,
  ringId,
  ckptId: id,
  name,
  attributes: ATTRS,
  unlinked,
  nextGeneratedId: 0,
  version: 1,
  unreferencedSince: undefined,
  sections,
});
const section = (ckptId: string, id: string, data = ''): SyncMessage => ({
  kind: SyncKind.Section,
  ringId,
  ckptId,
  sectionId: bytes(id),
  expiration: TIME_END,
  lastUpdate: 0,
  data: bytes(data),
});
const end = (checkpoints: number, sections: number): SyncMessage => ({
  kind: SyncKind.End,
  ringId,
  checkpoints,
  sections,
});

function expectError(code: string, feed: (r: SyncReceiver) => void): void {
  const r = new SyncReceiver(ringId, [1, 2]);
  assert.throws(
    () => feed(r),
    (e: unknown) => e instanceof CkptSyncProtocolError && e.code === code,
    `expected ${code}`,
  );
}

test('each protocol breach is a typed error', () => {
  expectError('dangling-section', (r) => {
    r.receive(1, hello(true));
    r.receive(1, section('x', 'a'));
  });
  expectError('dangling-section', (r) => {
    r.receive(1, hello(true));
    r.receive(1, ckpt('x', 1));
    r.receive(1, section('y', 'a'));
  });
  expectError('not-a-sender', (r) => r.receive(1, ckpt('x', 0)));
  expectError('not-a-sender', (r) => {
    r.receive(2, hello(false));
    r.receive(2, ckpt('x', 0));
  });
  expectError('after-end', (r) => {
    r.receive(1, hello(true));
    r.receive(1, end(0, 0));
    r.receive(1, ckpt('x', 0));
  });
  expectError('section-count', (r) => {
    r.receive(1, hello(true));
    r.receive(1, ckpt('x', 2));
    r.receive(1, section('x', 'a'));
    r.receive(1, ckpt('y', 0));
  });
  expectError('section-count', (r) => {
    r.receive(1, hello(true));
    r.receive(1, ckpt('x', 0));
    r.receive(1, section('x', 'a'));
  });
  expectError('checkpoint-count', (r) => {
    r.receive(1, hello(true));
    r.receive(1, ckpt('x', 0));
    r.receive(1, end(2, 0));
  });
  expectError('duplicate-checkpoint', (r) => {
    r.receive(1, hello(true));
    r.receive(1, ckpt('x', 0));
    r.receive(1, ckpt('x', 0));
  });
  expectError('duplicate-section', (r) => {
    r.receive(1, hello(true));
    r.receive(1, ckpt('x', 2));
    r.receive(1, section('x', 'a'));
    r.receive(1, section('x', 'a'));
  });
  expectError('duplicate-hello', (r) => {
    r.receive(2, hello(false));
    r.receive(2, hello(false));
  });
  expectError('not-a-member', (r) => r.receive(3, hello(false)));
});

test('complete only when every HELLO and every declared END is in; empty sections are kept', () => {
  const r = new SyncReceiver(ringId, [1, 2, 3]);
  r.receive(2, hello(false, 1, [{ ckptId: 'x', count: 2 }]));
  r.receive(1, hello(true, 2, [{ ckptId: 'x', count: 1 }]));
  r.receive(1, ckpt('x', 2));
  r.receive(1, section('x', 'a', ''));
  r.receive(1, section('x', 'b', 'data'));
  assert.equal(r.complete, false);
  r.receive(1, end(1, 2));
  assert.equal(r.complete, false, 'node 3 has not said hello');
  r.receive(3, hello(true, 1));
  assert.equal(r.complete, false, 'node 3 declared itself a sender');
  r.receive(3, end(0, 0));
  assert.equal(r.complete, true);
  const { db, senders } = r.merge();
  assert.equal(senders, 2);
  const x = db.linked.get('x')!;
  assert.equal(x.sections.size, 2);
  assert.deepEqual([...x.refcounts.entries()].sort(), [
    [1, 1],
    [2, 2],
  ]);
});

test('merge ranks senders by group size, then by lowest node id', () => {
  const r = new SyncReceiver(ringId, [1, 2, 3, 4]);
  r.receive(1, hello(true, 1));
  r.receive(2, hello(true, 2));
  r.receive(4, hello(true, 1));
  r.receive(3, hello(false, 2));
  for (const [node, data] of [
    [1, 'one'],
    [2, 'two'],
    [4, 'four'],
  ] as const) {
    r.receive(node, ckpt(`id${node}`, 1, 'same'));
    r.receive(node, section(`id${node}`, 's', data));
    r.receive(node, end(1, 1));
  }
  const { db, conflicts } = r.merge();
  assert.equal(db.linked.get('same')!.id, 'id2', 'group of two wins');
  assert.deepEqual(
    conflicts.map((c) => [c.winner, c.loser]),
    [
      [2, 1],
      [2, 4],
    ],
  );
  assert.equal(db.byId.size, 1, 'unreferenced losers are dropped');
  assert.equal(db.linked.get('same')!.unreferencedSince, 100);
});
