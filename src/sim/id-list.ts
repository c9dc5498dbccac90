/**
 * An append-only list of message ids (u32) in a growable typed array: the checker keeps one
 * per node per configuration of every delivery, for the whole run, and a plain array of
 * that many numbers cost more to grow and to trace than to fill.
 */
export class IdList {
  private ids = new Uint32Array(64);
  length = 0;

  push(id: number): void {
    if (!(id >= 0 && id <= 0xffffffff && Number.isInteger(id))) throw new RangeError(`id ${id} is not a u32`);
    if (this.length === this.ids.length) {
      const next = new Uint32Array(this.ids.length * 2);
      next.set(this.ids);
      this.ids = next;
    }
    this.ids[this.length++] = id;
  }

  /** The id at index i (0 <= i < length). */
  at(i: number): number {
    if (!(i >= 0 && i < this.length)) throw new RangeError(`index ${i} outside 0..${this.length - 1}`);
    return this.ids[i]!;
  }
}
