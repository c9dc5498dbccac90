import { EV } from '../../src/recorder/events/index.js';
import { type RingImage, readRing } from '../../src/recorder/reader.js';
import { Recorder } from '../../src/recorder/recorder.js';

/**
 * Writes what a healthy cluster would record: N nodes in one regular configuration,
 * each multicasting `perNode` messages, every node delivering all of them in one
 * agreed order, each message also a pg message. Returns the per-node recorders, so a
 * test can plant a fault before reading them back.
 */
export interface PlantOptions {
  readonly nodes?: number;
  readonly perNode?: number;
  /** Called for every delivery before it is recorded; return false to drop it. */
  readonly onDeliver?: (node: number, seq: number, sender: number) => boolean;
  /** Replaces the pg delivery of (node, sender, msgId) with something else. */
  readonly pgDeliver?: (
    node: number,
    sender: number,
    msgId: number,
    len: number,
  ) => [number, number][] | undefined;
  readonly closed?: boolean;
  /** End with a transitional configuration listing these members (instead of staying in the ring). */
  readonly transitionalMembers?: readonly number[];
}

export function recordCluster(opts: PlantOptions = {}): Recorder[] {
  const n = opts.nodes ?? 3;
  const perNode = opts.perNode ?? 5;
  const ids = Array.from({ length: n }, (_, i) => i + 1);
  const recs = ids.map((id) => new Recorder({ slots: 4096, nodeId: id, virtualClock: true, pid: 1000 + id }));
  const ring = { rep: 1, seq: 8 };
  let t = 1;
  for (const r of recs) {
    r.setTime(t);
    r.rec(EV.SRP_CONF, 1, ring.rep, ring.seq, n);
    for (const id of ids) r.rec(EV.SRP_CONF_MEMBER, ring.rep, ring.seq, id, 0);
  }
  let seq = 0;
  const order: { sender: number; msgId: number; len: number; seq: number }[] = [];
  for (let k = 0; k < perNode; k++) {
    for (const sender of ids) {
      seq++;
      t += 1;
      const len = 10 + ((sender * 7 + k * 13) % 50);
      const r = recs[sender - 1]!;
      r.setTime(t);
      r.rec(EV.PG_SEND, k + 1, len, 1, 0);
      r.rec(EV.SRP_MCAST_TX, ring.rep, ring.seq, seq, len + 12);
      order.push({ sender, msgId: k + 1, len, seq });
    }
  }
  for (const m of order) {
    t += 1;
    ids.forEach((node, i) => {
      if (opts.onDeliver && !opts.onDeliver(node, m.seq, m.sender)) return;
      const r = recs[i]!;
      r.setTime(t);
      r.rec(EV.SRP_DELIVER, ring.rep, ring.seq, m.seq, m.sender);
      const pg = opts.pgDeliver?.(node, m.sender, m.msgId, m.len) ?? [[m.msgId, m.len]];
      for (const [id, len] of pg) r.rec(EV.PG_DELIVER, m.sender, id, len, 0);
    });
  }
  if (opts.transitionalMembers) {
    t += 1;
    const members = opts.transitionalMembers;
    for (const r of recs) {
      if (!members.includes(r.nodeId)) continue;
      r.setTime(t);
      r.rec(EV.SRP_CONF, 0, 2, 12, members.length);
      for (const id of members) r.rec(EV.SRP_CONF_MEMBER, 2, 12, id, 0);
    }
  }
  if (opts.closed ?? true) for (const r of recs) r.markClosed('test end');
  return recs;
}

export function images(recs: readonly Recorder[]): RingImage[] {
  return recs.map((r) => readRing(r.snapshot(), `node${r.nodeId}.ring`));
}
