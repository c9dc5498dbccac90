import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeId } from '../../src/core/io.js';
import { TIME_END } from '../../src/services/ckpt/types.js';
import { ATTRS, bytes, CkptCluster, RW_CREATE, text } from './cluster.js';

/** The database without what a membership change legitimately alters (reference counts, retention start). */
const content = (dump: string): string =>
  dump.replace(/refs\[[^\]]*\]/g, 'refs').replace(/since=\S+/g, 'since');
/** ... and without the section the test writes during the round, and the version it bumps. */
const rest = (dump: string): string =>
  content(dump)
    .replace(/ 76=\S+/, ' 76=?')
    .replace(/ linked v\d+ /g, ' linked v? ');

/** Three nodes with two checkpoints (one unreferenced, with retention), empty and full sections. */
function setup(): { c: CkptCluster; writer: number } {
  const c = new CkptCluster([1, 2, 3], 3);
  const h = c.open(1, 1, 'alpha', RW_CREATE, { ...ATTRS, maxSections: 20 });
  for (let i = 0; i < 6; i++) {
    const data = i % 2 === 0 ? new Uint8Array(0) : new Uint8Array(200 * i).fill(i);
    c.ok(1, 1, {
      kind: 'sectionCreate',
      handle: h,
      sectionId: bytes(`s${i}`),
      expirationTime: TIME_END,
      initialData: data,
    });
  }
  c.ok(1, 1, {
    kind: 'sectionCreate',
    handle: h,
    sectionId: bytes('v'),
    expirationTime: TIME_END,
    initialData: bytes('v0'),
  });
  const b = c.open(3, 1, 'beta', RW_CREATE, { ...ATTRS, retentionDuration: 1_000_000 });
  c.ok(3, 1, {
    kind: 'sectionCreate',
    handle: b,
    sectionId: bytes('e'),
    expirationTime: TIME_END,
    initialData: new Uint8Array(0),
  });
  c.ok(3, 1, { kind: 'close', handle: b });
  const writer = c.open(2, 1, 'alpha', RW_CREATE, { ...ATTRS, maxSections: 20 });
  return { c, writer };
}

/** Round-robin token visits over the ring that node 1's partition is in. */
function step(c: CkptCluster, k: number): void {
  const members = c.net.partitions().flat();
  c.net.visit(members[k % members.length]!);
}

function roundLength(): number {
  const { c } = setup();
  c.start(4);
  c.net.reconfigure([[1, 2, 3, 4]]);
  let k = 0;
  while (c.live().some((n) => n.engine.inProgress)) step(c, k++);
  return k;
}

const disturbances: { name: string; next: NodeId[]; restart?: NodeId }[] = [
  { name: 'the sender (node 1) leaves', next: [2, 3, 4] },
  { name: 'a non-sender (node 3) leaves', next: [1, 2, 4] },
  { name: 'the joiner (node 4) leaves', next: [1, 2, 3] },
  { name: 'another node (5) joins', next: [1, 2, 3, 4, 5], restart: 5 },
];

test('a membership change at every token visit of a sync round: replicas agree, nothing lost, no update half-applied', () => {
  const length = roundLength();
  assert.ok(length > 10, `a round takes ${length} visits`);
  const { c: ref } = setup();
  const reference = ref.assertReplicasAgree()[0]!;
  for (const d of disturbances) {
    for (let k = 0; k <= length; k++) {
      const { c, writer } = setup();
      c.start(4);
      c.net.reconfigure([[1, 2, 3, 4]]);
      let pending: number | undefined;
      for (let i = 0; i < k; i++) {
        if (i === Math.floor(k / 2)) {
          pending = c.send(2, 1, {
            kind: 'overwrite',
            handle: writer,
            sectionId: bytes('v'),
            data: bytes(`v${k}`),
          });
        }
        step(c, i);
      }
      if (d.restart) c.start(d.restart);
      c.net.reconfigure([d.next]);
      c.settle();
      const where = `${d.name} after ${k} visits`;
      const [dump] = c.assertReplicasAgree();
      for (const n of c.live()) {
        assert.equal(n.engine.inProgress, false, where);
        assert.equal(n.ckpt.protocolErrors.length, 0, where);
      }
      // Everything but the write made during the round is exactly as before.
      assert.equal(rest(dump!), rest(reference), where);
      // That write: answered once, and applied everywhere iff it said OK.
      const v = text(c.node(2).ckpt.database.linked.get('alpha')!.sections.get('76')!.data);
      if (pending === undefined) {
        assert.equal(v, 'v0', where);
      } else {
        const replies = c.node(2).replies.filter((r) => r.reqId === pending);
        assert.equal(replies.length, 1, where);
        if (replies[0]!.error) assert.equal(`${replies[0]!.error.aisName} ${v}`, 'TRY_AGAIN v0', where);
        else assert.equal(v, `v${k}`, where);
      }
    }
  }
});

test('retention racing with sync: no expiry while a round runs; afterwards the ordered expiry applies once', () => {
  const c = new CkptCluster([1, 2, 3]);
  const h = c.open(2, 1, 'short', RW_CREATE, { ...ATTRS, retentionDuration: 100 });
  c.ok(2, 1, { kind: 'close', handle: h });
  const due = c.now + 100;
  c.net.reconfigure([[1, 2, 3]], true);
  for (const n of c.live()) n.ckpt.tick(due + 1);
  assert.equal(c.node(1).ckpt.stats.expiriesSent, 0, 'no expiry from inside a round');
  c.settle();
  for (const n of c.live()) assert.equal(n.ckpt.database.byId.size, 1);
  c.tick(due + 2);
  for (const n of c.live()) assert.equal(n.ckpt.database.byId.size, 0);
  // An expiry ordered into a round that then aborts is dropped everywhere, and sent again later.
  const h2 = c.open(2, 1, 'again', RW_CREATE, { ...ATTRS, retentionDuration: 100 });
  c.ok(2, 1, { kind: 'close', handle: h2 });
  c.node(1).ckpt.tick(c.now + 200);
  c.net.reconfigure([[1, 2, 3]], true);
  c.net.visit(1);
  c.net.reconfigure([[1, 2, 3]], true);
  c.settle();
  for (const n of c.live()) assert.equal(n.ckpt.database.byId.size, 1);
  c.tick(c.now + 300);
  for (const n of c.live()) assert.equal(n.ckpt.database.byId.size, 0);
  c.assertReplicasAgree();
});
