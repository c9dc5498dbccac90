/**
 * CPU cost of the SRP core: N nodes in one process, packets passed through an in-memory FIFO
 * with no latency and no loss; timers run on a virtual clock that advances only when no
 * packet is in flight.
 * Prints messages ordered and delivered per second of wall time (figures, not a pass/fail).
 *
 *   node dist/bench/srp-throughput.js
 */
import { BROADCAST, Guarantee, type NodeId } from '../src/core/io.js';
import { Recorder } from '../src/recorder/recorder.js';
import { SrpNode } from '../src/srp/srp-node.js';

function run(nodes: number, payloadBytes: number, messages: number): { seconds: number; delivered: number } {
  const ids = Array.from({ length: nodes }, (_, i) => i + 1);
  const queue: { to: NodeId; from: NodeId; packet: Uint8Array }[] = [];
  const timers = new Map<string, { id: NodeId; timer: number; due: number }>();
  let now = 0;
  let delivered = 0;
  const srp = new Map<NodeId, SrpNode>();
  for (const id of ids) {
    srp.set(
      id,
      new SrpNode({
        nodeId: id,
        recorder: new Recorder({ slots: 65536, nodeId: id, virtualClock: true, pid: 1 }),
        host: {
          send: (to, packet) => {
            if (to === BROADCAST) for (const t of ids) t !== id && queue.push({ to: t, from: id, packet });
            else queue.push({ to, from: id, packet });
          },
          setTimer: (timer, delay) => {
            timers.set(`${id}/${timer}`, { id, timer, due: now + delay });
          },
          cancelTimer: (timer) => {
            timers.delete(`${id}/${timer}`);
          },
          persistRingSeq: () => {},
        },
        listener: {
          deliver: () => {
            delivered++;
          },
          configurationChange: () => {},
          tokenVisit: () => {},
        },
      }),
    );
  }
  /** Delivers every packet in flight, then fires due timers while untilIdle asks for more. */
  const pump = (fireTimersUntil: number): void => {
    for (;;) {
      for (let i = 0; i < queue.length; i++) {
        const p = queue[i]!;
        srp.get(p.to)!.receive(now, p.from, p.packet);
      }
      queue.length = 0;
      let next: { id: NodeId; timer: number; due: number } | undefined;
      for (const t of timers.values()) if (!next || t.due < next.due) next = t;
      if (!next || next.due > fireTimersUntil) return;
      timers.delete(`${next.id}/${next.timer}`);
      now = Math.max(now, next.due);
      srp.get(next.id)!.timerExpired(now, next.timer);
    }
  };
  // Form the ring: every node joins; the membership settles without timers.
  for (const n of srp.values()) n.start(0);
  pump(5000);
  const first = srp.get(1)!;
  if (first.members.length !== nodes) throw new Error(`ring did not form: ${first.members}`);
  const payload = new Uint8Array(payloadBytes);
  let sent = 0;
  const start = process.hrtime.bigint();
  while (sent < messages) {
    for (const n of srp.values()) {
      while (sent < messages && n.sendQueueRoom() > 0 && n.mcast(payload, Guarantee.Agreed)) sent++;
    }
    // Run until the send queues have drained (the token keeps rotating through SelfToken
    // and packets; timers other than the self token only fire on an idle ring).
    pump(now);
    while ([...srp.values()].some((n) => n.sendQueueRoom() < n.config.sendQueueSize)) pump(now + 1000);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { seconds, delivered };
}

for (const nodes of [1, 3, 5]) {
  for (const bytes of [64, 1000]) {
    const r = run(nodes, bytes, 50_000);
    const perNode = r.delivered / nodes;
    console.log(
      `${nodes} node(s), ${bytes} B: ${Math.round(perNode / r.seconds)} msg/s ordered and delivered at every node ` +
        `(${(r.seconds * 1000).toFixed(0)} ms for ${perNode} messages; one process runs all ${nodes} cores)`,
    );
  }
}
