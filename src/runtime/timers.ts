/**
 * Host timers on setTimeout. A timer is armed relative to the time of the input that armed
 * it (the core's view of now), so the time spent handling that input is not added again.
 */
export class RealTimers {
  private readonly pending = new Map<number, NodeJS.Timeout>();

  constructor(
    private readonly clock: () => number,
    private readonly fire: (timer: number) => void,
  ) {}

  set(timer: number, delayMs: number, inputNow: number): void {
    this.cancel(timer);
    const wait = Math.max(0, inputNow + delayMs - this.clock());
    const handle = setTimeout(() => {
      this.pending.delete(timer);
      this.fire(timer);
    }, wait);
    this.pending.set(timer, handle);
  }

  cancel(timer: number): void {
    const h = this.pending.get(timer);
    if (h !== undefined) {
      clearTimeout(h);
      this.pending.delete(timer);
    }
  }

  cancelAll(): void {
    for (const h of this.pending.values()) clearTimeout(h);
    this.pending.clear();
  }

  get armed(): number {
    return this.pending.size;
  }
}
