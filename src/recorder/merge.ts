import { monoNs, type RingImage } from './reader.js';

/** A record's place in a merged replay: which ring, which record of it, and its merged time. */
export interface MergedRef {
  readonly file: number;
  readonly index: number;
  /** Nanoseconds on the common clock (host monotonic, or the simulator's virtual clock). */
  readonly ns: number;
}

/**
 * Merges several rings by time. Each ring is already in sequence order; rings are merged
 * by their anchored clock with the sequence number (then file order) breaking ties, so
 * a ring's own order is never changed.
 */
export function mergeByTime(images: readonly RingImage[]): MergedRef[] {
  const heads = images.map(() => 0);
  const total = images.reduce((n, img) => n + img.records.count, 0);
  const out: MergedRef[] = new Array(total);
  const time = (f: number, i: number): number => {
    const img = images[f]!;
    return img.header ? monoNs(img.header, img.records.ts[i]!) : img.records.ts[i]! * 1e6;
  };
  // A binary heap of files keyed by the time of their next record.
  const heap: number[] = [];
  const key = (f: number): number => time(f, heads[f]!);
  const less = (a: number, b: number): boolean => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb || (ka === kb && a < b);
  };
  const push = (f: number): void => {
    heap.push(f);
    let i = heap.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && less(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && less(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  };
  images.forEach((img, f) => {
    if (img.records.count > 0) push(f);
  });
  let n = 0;
  while (heap.length > 0) {
    const f = pop();
    const i = heads[f]!;
    out[n++] = { file: f, index: i, ns: time(f, i) };
    heads[f] = i + 1;
    if (i + 1 < images[f]!.records.count) push(f);
  }
  return out;
}
