/**
 * A binary min-heap of timed events. Ties in time are broken by insertion order, so two runs
 * that schedule the same events in the same order pop them in the same order.
 *
 * The heap keeps times, insertion numbers and events in three parallel arrays rather than an
 * object per entry: every packet and timer of a run passes through here.
 */
export interface Scheduled<E> {
  readonly time: number;
  readonly order: number;
  readonly event: E;
}

export class EventQueue<E> {
  private readonly times: number[] = [];
  private readonly orders: number[] = [];
  private readonly events: E[] = [];
  private nextOrder = 0;
  /** The time of the event `take()` returned last. */
  lastTime = 0;

  get size(): number {
    return this.events.length;
  }

  push(time: number, event: E): void {
    if (!Number.isFinite(time)) throw new RangeError(`event time must be finite, got ${time}`);
    const order = this.nextOrder++;
    const times = this.times;
    const orders = this.orders;
    const events = this.events;
    let i = events.length;
    times.push(time);
    orders.push(order);
    events.push(event);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      if (!(time < pt || (time === pt && order < orders[parent]!))) break;
      times[i] = pt;
      orders[i] = orders[parent]!;
      events[i] = events[parent]!;
      i = parent;
    }
    times[i] = time;
    orders[i] = order;
    events[i] = event;
  }

  /** The time of the earliest event, or Infinity when empty. */
  peekTime(): number {
    return this.events.length > 0 ? this.times[0]! : Number.POSITIVE_INFINITY;
  }

  /** Removes the earliest event and returns it (its time is then `lastTime`); undefined when empty. */
  take(): E | undefined {
    const times = this.times;
    const orders = this.orders;
    const events = this.events;
    if (events.length === 0) return undefined;
    const top = events[0]!;
    this.lastTime = times[0]!;
    const lastT = times.pop()!;
    const lastO = orders.pop()!;
    const lastE = events.pop()!;
    const n = events.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        if (r < n) {
          const rt = times[r]!;
          const lt = times[l]!;
          if (rt < lt || (rt === lt && orders[r]! < orders[l]!)) c = r;
        }
        const ct = times[c]!;
        if (!(ct < lastT || (ct === lastT && orders[c]! < lastO))) break;
        times[i] = ct;
        orders[i] = orders[c]!;
        events[i] = events[c]!;
        i = c;
      }
      times[i] = lastT;
      orders[i] = lastO;
      events[i] = lastE;
    }
    return top;
  }

  pop(): Scheduled<E> | undefined {
    if (this.events.length === 0) return undefined;
    const order = this.orders[0]!;
    const event = this.take()!;
    return { time: this.lastTime, order, event };
  }
}
