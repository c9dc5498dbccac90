import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readRing } from '../../src/recorder/reader.js';
import { argObject, eventName } from '../../src/recorder/render.js';
import { CKPT_SYNC_ERROR_CODES } from '../../src/services/ckpt/errors.js';
import { TIME_END } from '../../src/services/ckpt/types.js';
import { encodeHello, encodeSectionPieces, SyncKind } from '../../src/services/ckpt/wire.js';
import { bytes, CkptCluster } from './cluster.js';

function events(c: CkptCluster, node: number): { name: string; args: Record<string, unknown> }[] {
  const image = readRing(c.node(node).recorder.snapshot(), `node${node}`);
  assert.deepEqual(image.problems, []);
  const out: { name: string; args: Record<string, unknown> }[] = [];
  for (let i = 0; i < image.records.count; i++) {
    out.push({ name: eventName(image, image.records.event[i]!), args: argObject(image, i) });
  }
  return out;
}

test('sync and ckpt record their steps, readable from the ring with names and arguments', () => {
  const c = new CkptCluster([1, 2]);
  c.net.reconfigure([[1], [2]]);
  c.settle();
  for (const node of [1, 2]) {
    const h = c.open(node, 1, 'clash');
    c.ok(node, 1, {
      kind: 'sectionCreate',
      handle: h,
      sectionId: bytes('s'),
      expirationTime: TIME_END,
      initialData: bytes(''),
    });
  }
  c.net.reconfigure([[1, 2]]);
  c.settle();
  const names = events(c, 2).map((e) => e.name);
  for (const expected of [
    'sync.round_start',
    'sync.service_list_tx',
    'sync.services_agreed',
    'sync.service_init',
    'sync.process',
    'sync.barrier_tx',
    'sync.barrier_rx',
    'sync.activate',
    'sync.round_done',
    'ckpt.request',
    'ckpt.op_tx',
    'ckpt.op_apply',
    'ckpt.response',
    'ckpt.sync_init',
    'ckpt.sync_tx',
    'ckpt.sync_rx',
    'ckpt.sync_activate',
    'ckpt.merge_conflict',
  ]) {
    assert.ok(names.includes(expected), `${expected} recorded`);
  }
  const conflict = events(c, 2).find((e) => e.name === 'ckpt.merge_conflict')!;
  assert.equal(conflict.args.name, 'clash');
  const init = events(c, 1)
    .filter((e) => e.name === 'sync.service_init')
    .at(-1)!;
  assert.equal(init.args.service, 'ckpt');
});

test('a protocol error is recorded by ckpt (kind, typed code) and by sync (the failed round, service, reason)', () => {
  const c = new CkptCluster([1, 2]);
  c.net.reconfigure([[1, 2]], true);
  for (let i = 0; i < 10 && c.node(1).engine.currentService !== 'ckpt'; i++) c.net.visit(i % 2 === 0 ? 1 : 2);
  const ringId = c.net.ringOf(1)!;
  const pg = c.node(1).pg;
  pg.send('ckpt', encodeHello({ ringId, sender: true, groupSize: 2, time: 0, handles: [] }));
  pg.send(
    'ckpt',
    encodeSectionPieces({
      ringId,
      ckptId: 'gone',
      sectionId: bytes('x'),
      expiration: 0,
      lastUpdate: 0,
      data: bytes(''),
    }),
  );
  c.settle();
  const log = events(c, 2);
  const error = log.find((e) => e.name === 'ckpt.sync_protocol_error')!;
  assert.equal(error.args.error, CKPT_SYNC_ERROR_CODES.indexOf('dangling-section'));
  assert.equal(error.args.kind, SyncKind.Section);
  const failed = log.find((e) => e.name === 'sync.round_failed')!;
  assert.equal(failed.args.service, 'ckpt');
  assert.match(String(failed.args.reason), /dangling-section from node 1/);
});
