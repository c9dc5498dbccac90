import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  corosyncDefaults,
  resolveSrpConfig,
  SrpConfigError,
  whitetankDefaults,
} from '../../src/srp/config.js';
import { seqAdd, seqGt, seqLt, seqLte } from '../../src/srp/seq.js';

test('whitetank defaults', () => {
  const c = whitetankDefaults;
  assert.equal(c.token, 1000);
  assert.equal(c.tokenRetransmit, 238);
  assert.equal(c.hold, 180);
  assert.equal(c.join, 50);
  assert.equal(c.consensus, 800);
  assert.equal(c.merge, 200);
  assert.equal(c.failRecvConst, 2500);
  assert.equal(c.seqnoUnchangedConst, 30);
  assert.equal(c.missCountConst, 5);
  assert.equal(c.windowSize, 50);
  assert.equal(c.maxMessages, 17);
});

test('corosync defaults scale the token with the node count', () => {
  assert.equal(corosyncDefaults(2).token, 3000);
  assert.equal(corosyncDefaults(3).token, 3650);
  assert.equal(corosyncDefaults(5).token, 4950);
  assert.equal(corosyncDefaults(3).consensus, 4380);
  assert.equal(corosyncDefaults(2).tokenRetransmit, 714);
  assert.throws(() => corosyncDefaults(0), SrpConfigError);
});

test('a changed token re-derives retransmit and hold unless given', () => {
  const c = resolveSrpConfig({ token: 2100 });
  assert.equal(c.tokenRetransmit, 500);
  assert.equal(c.hold, 390);
  const d = resolveSrpConfig({ token: 2100, tokenRetransmit: 400 });
  assert.equal(d.tokenRetransmit, 400);
  assert.equal(d.hold, 310);
});

test('bad values are typed errors naming the field', () => {
  const bad: [Record<string, number>, string][] = [
    [{ token: 0 }, 'token'],
    [{ token: 1.5 }, 'token'],
    [{ tokenRetransmit: 2000 }, 'tokenRetransmit'],
    [{ hold: 500 }, 'hold'],
    [{ consensus: 10 }, 'consensus'],
    [{ maxMessages: 60 }, 'maxMessages'],
    [{ startSeq: -1 }, 'startSeq'],
    [{ startSeq: 2 ** 32 }, 'startSeq'],
    [{ queueSize: 100 }, 'queueSize'],
    [{ netMtu: 100 }, 'netMtu'],
  ];
  for (const [partial, field] of bad) {
    assert.throws(
      () => resolveSrpConfig(partial),
      (e: unknown) => e instanceof SrpConfigError && e.field === field,
      JSON.stringify(partial),
    );
  }
});

test('sequence comparison is rollover safe', () => {
  assert.ok(seqLt(0xffffffff, 0));
  assert.ok(seqGt(5, 0xfffffff0));
  assert.equal(seqAdd(0xffffffff, 1), 0);
  assert.equal(seqAdd(0, -1), 0xffffffff);
  fc.assert(
    fc.property(fc.nat(0xffffffff), fc.integer({ min: 1, max: 0x7fffffff }), (a, d) => {
      const b = seqAdd(a, d);
      assert.ok(seqLt(a, b) && seqGt(b, a) && seqLte(a, a) && !seqLt(a, a));
    }),
    { numRuns: 2000, seed: 3 },
  );
});
