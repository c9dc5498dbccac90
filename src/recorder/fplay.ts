import { mergeByTime } from './merge.js';
import type { RingImage } from './reader.js';
import { argObject, eventLayer, eventName, renderArgs } from './render.js';

export interface ReplayFilter {
  readonly nodes?: readonly number[];
  readonly layers?: readonly string[];
  readonly grep?: RegExp;
  /** Seconds from the start of the merged replay. */
  readonly since?: number;
  readonly until?: number;
  /** Keep only the last N records that pass the other filters. */
  readonly last?: number;
}

export interface ReplayLine {
  readonly node: number;
  readonly file: number;
  readonly seq: number;
  /** Seconds since the first record of the replay. */
  readonly t: number;
  readonly event: string;
  readonly layer: string;
  readonly text: string;
  readonly index: number;
}

export interface FileSummary {
  readonly source: string;
  readonly node: number | undefined;
  readonly pid: number | undefined;
  readonly label: string;
  readonly records: number;
  readonly tornSlots: number;
  readonly spanSeconds: number;
  readonly closed: boolean;
  readonly mapped: boolean;
  readonly problems: readonly string[];
}

export function summarize(image: RingImage): FileSummary {
  const { records } = image;
  const span = records.count > 1 ? (records.ts[records.count - 1]! - records.ts[0]!) / 1000 : 0;
  return {
    source: image.source,
    node: image.header?.nodeId,
    pid: image.header?.pid,
    label: image.header?.label ?? '',
    records: records.count,
    tornSlots: image.tornSlots,
    spanSeconds: span,
    closed: image.header?.closed ?? false,
    mapped: image.header?.mapped ?? false,
    problems: image.problems,
  };
}

export function summaryLine(s: FileSummary): string {
  if (s.node === undefined) return `# ${s.source}: unreadable: ${s.problems.join('; ')}`;
  const parts = [
    `# ${s.source}: node ${s.node} pid ${s.pid}`,
    s.label ? `"${s.label}"` : '',
    `records ${s.records}`,
    `torn slots skipped ${s.tornSlots}`,
    `span ${s.spanSeconds.toFixed(6)} s`,
    s.closed ? 'closed cleanly' : 'not closed (live, or the process died)',
  ].filter(Boolean);
  const problems = s.problems.length > 0 ? `\n#   problems: ${s.problems.join('; ')}` : '';
  return parts.join(', ') + problems;
}

/** Merges rings by time and yields the records that pass the filter, in order. */
export function replay(images: readonly RingImage[], filter: ReplayFilter = {}): ReplayLine[] {
  const merged = mergeByTime(images);
  const origin = merged.length > 0 ? merged[0]!.ns : 0;
  const nodes = filter.nodes ? new Set(filter.nodes) : undefined;
  const layers = filter.layers ? new Set(filter.layers) : undefined;
  const out: ReplayLine[] = [];
  for (const ref of merged) {
    const image = images[ref.file]!;
    const node = image.header?.nodeId ?? 0;
    if (nodes && !nodes.has(node)) continue;
    const event = image.records.event[ref.index]!;
    const layer = eventLayer(image, event);
    if (layers && !layers.has(layer)) continue;
    const t = (ref.ns - origin) / 1e9;
    if (filter.since !== undefined && t < filter.since) continue;
    if (filter.until !== undefined && t > filter.until) continue;
    const seq = image.records.seq[ref.index]!;
    const name = eventName(image, event);
    const args = renderArgs(image, ref.index);
    const text = `node=${node} rec=[${seq}] t=${t.toFixed(6)} ${name}${args ? ` ${args}` : ''}`;
    if (filter.grep && !filter.grep.test(text)) continue;
    out.push({ node, file: ref.file, seq, t, event: name, layer, text, index: ref.index });
  }
  return filter.last !== undefined ? out.slice(Math.max(0, out.length - filter.last)) : out;
}

/** One JSON object per record, for machines. */
export function lineJson(images: readonly RingImage[], line: ReplayLine): string {
  return JSON.stringify({
    type: 'record',
    node: line.node,
    rec: line.seq,
    t: line.t,
    event: line.event,
    args: argObject(images[line.file]!, line.index),
  });
}
