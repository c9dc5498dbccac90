/**
 * An async iterator fed by pushes: what `cpg.messages(group)` and `cpg.changes(group)` return.
 * Items wait in a queue until read; the owner watches `queued` for back-pressure.
 */
export class Subscription<T> implements AsyncIterableIterator<T> {
  private readonly items: T[] = [];
  private readonly waiters: { resolve(r: IteratorResult<T>): void; reject(err: unknown): void }[] = [];
  private done = false;
  private failure: unknown;
  private readonly onAbort = () => this.fail(this.signal?.reason);

  constructor(
    readonly accepts: (item: T) => boolean,
    private readonly onChange: (delta: number) => void,
    private readonly onEnd: (sub: Subscription<T>) => void,
    private readonly signal?: AbortSignal,
  ) {
    if (signal?.aborted) queueMicrotask(this.onAbort);
    else signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  get queued(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.done) return;
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve({ value: item, done: false });
    else {
      this.items.push(item);
      this.onChange(1);
    }
  }

  /** Ends the iteration after the queued items (cause undefined) or at once with an error. */
  finish(cause?: unknown): void {
    if (cause !== undefined) {
      this.fail(cause);
      return;
    }
    if (this.done) return;
    this.done = true;
    this.detach();
    for (const w of this.waiters.splice(0)) w.resolve({ value: undefined, done: true });
  }

  next(): Promise<IteratorResult<T>> {
    if (this.items.length > 0) {
      const value = this.items.shift()!;
      this.onChange(-1);
      return Promise.resolve({ value, done: false });
    }
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  return(): Promise<IteratorResult<T>> {
    this.onChange(-this.items.length);
    this.items.length = 0;
    this.finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return this;
  }

  private fail(cause: unknown): void {
    if (this.done) return;
    this.done = true;
    this.failure = cause;
    this.onChange(-this.items.length);
    this.items.length = 0;
    this.detach();
    for (const w of this.waiters.splice(0)) w.reject(cause);
  }

  private detach(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
    this.onEnd(this);
  }
}
