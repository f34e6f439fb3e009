/**
 * A FIFO with a capacity: `push` waits while it is full (back-pressure on the decoders), `take` waits for a
 * full batch unless the queue was closed. `abort` makes waiting and later pushes fail.
 */
export class BoundedQueue<T> {
  private readonly items: T[] = [];
  private pushWaiters: (() => void)[] = [];
  private takeWaiter: (() => void) | undefined;
  private closed = false;
  private error: Error | undefined;

  constructor(private readonly capacity: number) {}

  async push(item: T): Promise<void> {
    while (this.items.length >= this.capacity && !this.error) {
      await new Promise<void>((resolve) => this.pushWaiters.push(resolve));
    }
    if (this.error) throw this.error;
    this.items.push(item);
    this.wakeTaker();
  }

  /** Up to `n` items: waits until `n` are there or the queue is closed ([] means closed and drained). */
  async take(n: number): Promise<T[]> {
    if (n > this.capacity) throw new RangeError(`cannot take ${n} from a queue of capacity ${this.capacity}`);
    while (this.items.length < n && !this.closed) await new Promise<void>((resolve) => (this.takeWaiter = resolve));
    const out = this.items.splice(0, n);
    const waiters = this.pushWaiters;
    this.pushWaiters = [];
    for (const wake of waiters) wake();
    return out;
  }

  /** No more pushes: `take` returns what is left. */
  close(): void {
    this.closed = true;
    this.wakeTaker();
  }

  abort(error: Error): void {
    this.error = error;
    const waiters = this.pushWaiters;
    this.pushWaiters = [];
    for (const wake of waiters) wake();
    this.close();
  }

  private wakeTaker(): void {
    const wake = this.takeWaiter;
    this.takeWaiter = undefined;
    wake?.();
  }
}
