import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { checkLocks, conflicts } from '../../src/load/lock-checker.js';
import { type HeldInterval, LockLog } from '../../src/load/lock-log.js';

const iv = (over: Partial<HeldInterval>): HeldInterval => ({
  ownerKey: 'a',
  node: 1,
  space: 's',
  inode: 1,
  start: 0,
  end: 99,
  exclusive: true,
  from: 0,
  to: 10,
  ...over,
});

test('a planted conflict is caught: two owners hold overlapping exclusive ranges at once', () => {
  const found = checkLocks([
    iv({ ownerKey: 'a', from: 0, to: 10 }),
    iv({ ownerKey: 'b', start: 50, end: 150, from: 9, to: 20 }),
  ]);
  assert.equal(found.length, 1);
  assert.match(found[0]!.message, /conflicting locks held at once/);
});

test('shared with exclusive conflicts; shared with shared, same owner, other inode, disjoint ranges or times do not', () => {
  assert.equal(checkLocks([iv({}), iv({ ownerKey: 'b', exclusive: false, from: 5, to: 6 })]).length, 1);
  const fine = [
    [iv({ exclusive: false }), iv({ ownerKey: 'b', exclusive: false })],
    [iv({}), iv({ from: 5 })],
    [iv({}), iv({ ownerKey: 'b', inode: 2 })],
    [iv({}), iv({ ownerKey: 'b', space: 't' })],
    [iv({}), iv({ ownerKey: 'b', start: 100, end: 200 })],
    [iv({}), iv({ ownerKey: 'b', from: 10, to: 20 })],
  ];
  for (const pair of fine) assert.deepEqual(checkLocks(pair), [], JSON.stringify(pair));
});

test('LockLog: a lost connection ends its locks then; a grant heard on a lost connection proves nothing', () => {
  const log = new LockLog();
  const r = { space: 's', inode: 1, start: 0, end: 9 };
  const a = log.granted('c1#1', 1, 'c1', r, true, 10);
  log.connectionLost('c1', 20);
  log.released(a, 30); // The unlock after the loss changes nothing.
  assert.equal(log.granted('c1#1', 1, 'c1', r, true, 25), undefined);
  const b = log.granted('c2#2', 2, 'c2', r, true, 21);
  assert.deepEqual(checkLocks(log.intervals()), []);
  assert.deepEqual(
    log.intervals().map((x) => [x.ownerKey, x.from, x.to]),
    [
      ['c1#1', 10, 20],
      ['c2#2', 21, Number.POSITIVE_INFINITY],
    ],
  );
  // Granted before the first holder's loss: a conflict.
  log.granted('c3#3', 3, 'c3', r, false, 15);
  assert.equal(checkLocks(log.intervals()).length, 2);
  log.released(b, 40);
  log.forgetBefore(25);
  assert.equal(log.intervals().length, 2);
});

test('checkLocks finds exactly the pairs a brute-force comparison finds', () => {
  const arb = fc.array(
    fc.record({
      ownerKey: fc.constantFrom('a', 'b', 'c'),
      node: fc.constant(1),
      space: fc.constantFrom('s', 't'),
      inode: fc.integer({ min: 0, max: 2 }),
      start: fc.integer({ min: 0, max: 20 }),
      len: fc.integer({ min: 0, max: 10 }),
      exclusive: fc.boolean(),
      from: fc.integer({ min: 0, max: 50 }),
      dur: fc.integer({ min: 0, max: 20 }),
    }),
    { maxLength: 25 },
  );
  fc.assert(
    fc.property(arb, (raw) => {
      const list: HeldInterval[] = raw.map((r) => ({
        ownerKey: r.ownerKey,
        node: r.node,
        space: r.space,
        inode: r.inode,
        start: r.start,
        end: r.start + r.len,
        exclusive: r.exclusive,
        from: r.from,
        to: r.from + r.dur,
      }));
      let expected = 0;
      for (let i = 0; i < list.length; i++)
        for (let j = i + 1; j < list.length; j++) if (conflicts(list[i]!, list[j]!)) expected++;
      assert.equal(checkLocks(list, 10_000).length, expected);
    }),
  );
});
