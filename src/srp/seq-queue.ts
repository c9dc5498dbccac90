/**
 * The sort queue's store: values by u32 sequence number in a power-of-two ring of slots
 * (slot = seq & mask). The live seqs of a queue always lie in one short window (at most
 * queue_size above what was released), so they rarely collide; a collision doubles the
 * ring. A hash Map did the same job with a rehash whenever the window grew or shrank.
 */
export class SeqQueue<V> {
  private seqs: Uint32Array;
  private vals: (V | undefined)[];
  private mask: number;
  size = 0;

  constructor(initialSlots = 256) {
    let n = 16;
    while (n < initialSlots) n *= 2;
    this.seqs = new Uint32Array(n);
    this.vals = new Array<V | undefined>(n).fill(undefined);
    this.mask = n - 1;
  }

  get(seq: number): V | undefined {
    const i = seq & this.mask;
    return this.seqs[i] === seq ? this.vals[i] : undefined;
  }

  has(seq: number): boolean {
    return this.get(seq) !== undefined;
  }

  set(seq: number, value: V): void {
    if (!(seq >= 0 && seq <= 0xffffffff && Number.isInteger(seq)))
      throw new RangeError(`seq ${seq} is not a u32`);
    if (value === undefined) throw new RangeError('a SeqQueue stores no undefined values');
    let i = seq & this.mask;
    while (this.vals[i] !== undefined && this.seqs[i] !== seq) {
      this.grow();
      i = seq & this.mask;
    }
    if (this.vals[i] === undefined) this.size++;
    this.seqs[i] = seq;
    this.vals[i] = value;
  }

  delete(seq: number): boolean {
    const i = seq & this.mask;
    if (this.vals[i] === undefined || this.seqs[i] !== seq) return false;
    this.vals[i] = undefined;
    this.size--;
    return true;
  }

  clear(): void {
    this.vals.fill(undefined);
    this.size = 0;
  }

  /** Doubles the ring until every live seq has a slot of its own. */
  private grow(): void {
    const oldSeqs = this.seqs;
    const oldVals = this.vals;
    let n = oldSeqs.length * 2;
    for (;;) {
      const mask = n - 1;
      const seqs = new Uint32Array(n);
      const vals = new Array<V | undefined>(n).fill(undefined);
      let clash = false;
      for (let j = 0; j < oldVals.length && !clash; j++) {
        const v = oldVals[j];
        if (v === undefined) continue;
        const k = oldSeqs[j]! & mask;
        if (vals[k] !== undefined) clash = true;
        seqs[k] = oldSeqs[j]!;
        vals[k] = v;
      }
      if (!clash) {
        this.seqs = seqs;
        this.vals = vals;
        this.mask = mask;
        return;
      }
      n *= 2;
    }
  }
}
