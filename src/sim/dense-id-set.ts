/**
 * A set of small non-negative integers (the world's message ids, handed out from 1 upward)
 * as a growable bitmap. The checker asks "delivered before?" for every delivery at every
 * node; a hash Set of every id ever delivered grew, rehashed and missed the cache.
 */
export class DenseIdSet {
  private bits = new Uint32Array(256);
  size = 0;

  has(id: number): boolean {
    const word = id >>> 5;
    return word < this.bits.length && (this.bits[word]! & (1 << (id & 31))) !== 0;
  }

  add(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw new RangeError(`id ${id} is not a u32`);
    const word = id >>> 5;
    if (word >= this.bits.length) this.grow(word);
    const bit = 1 << (id & 31);
    if ((this.bits[word]! & bit) !== 0) return;
    this.bits[word]! |= bit;
    this.size++;
  }

  private grow(word: number): void {
    let n = this.bits.length * 2;
    while (n <= word) n *= 2;
    const next = new Uint32Array(n);
    next.set(this.bits);
    this.bits = next;
  }
}
