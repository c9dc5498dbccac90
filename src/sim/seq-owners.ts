/**
 * Which message each sequence number of one ring carries (the agreed-order check), for a
 * whole run. A ring's seqs run upward from where its first delivery was, so they index a
 * dense array from there; anything else (a seq below that base, or implausibly far above
 * it) goes to a Map. A Map of every seq of a busy ring was one of the checker's top costs.
 */
const DENSE_LIMIT = 1 << 24;

export class SeqOwners {
  private base = -1;
  /** msgId + 1 at seq - base; 0 = none. */
  private dense = new Float64Array(1024);
  private readonly sparse = new Map<number, number>();

  get(seq: number): number | undefined {
    if (this.base >= 0) {
      const d = (seq - this.base) >>> 0;
      if (d < DENSE_LIMIT) {
        const v = d < this.dense.length ? this.dense[d]! : 0;
        return v === 0 ? undefined : v - 1;
      }
    }
    return this.sparse.get(seq);
  }

  set(seq: number, msgId: number): void {
    if (!Number.isSafeInteger(msgId) || msgId < 0) throw new RangeError(`message id ${msgId}`);
    if (this.base < 0) this.base = seq >>> 0;
    const d = (seq - this.base) >>> 0;
    if (d >= DENSE_LIMIT) {
      this.sparse.set(seq, msgId);
      return;
    }
    if (d >= this.dense.length) {
      let n = this.dense.length * 2;
      while (n <= d) n *= 2;
      const next = new Float64Array(n);
      next.set(this.dense);
      this.dense = next;
    }
    this.dense[d] = msgId + 1;
  }
}
