import type { ReplayLine } from './fplay.js';
import type { RingImage } from './reader.js';
import { argObject } from './render.js';

/**
 * Chrome Trace Event format (opens in ui.perfetto.dev and chrome://tracing): one process
 * per node, one thread per layer, one instant event per record.
 */
export function chromeTrace(images: readonly RingImage[], lines: readonly ReplayLine[]): string {
  const layerTid = new Map<string, number>();
  const events: object[] = [];
  const seenNodes = new Set<number>();
  for (const line of lines) {
    if (!seenNodes.has(line.node)) {
      seenNodes.add(line.node);
      events.push({
        name: 'process_name',
        ph: 'M',
        pid: line.node,
        tid: 0,
        args: { name: `node ${line.node}` },
      });
    }
    let tid = layerTid.get(line.layer);
    if (tid === undefined) {
      tid = layerTid.size + 1;
      layerTid.set(line.layer, tid);
    }
    events.push({
      name: line.event,
      cat: line.layer,
      ph: 'i',
      s: 't',
      ts: line.t * 1e6,
      pid: line.node,
      tid,
      args: { rec: line.seq, ...argObject(images[line.file]!, line.index) },
    });
  }
  for (const node of seenNodes) {
    for (const [layer, tid] of layerTid) {
      events.push({ name: 'thread_name', ph: 'M', pid: node, tid, args: { name: layer } });
    }
  }
  return JSON.stringify({ traceEvents: events, displayTimeUnit: 'ms' });
}
