// Bounds how many of one kind of work run at once. The queue of waiters is bounded too: past it a
// caller is refused at once, so a flood gets "busy" answers instead of a line that only grows.
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly slots: number,
    private readonly maxWaiting: number,
  ) {}

  /**
   * A slot, resolved with its release function once one is free; undefined when every slot is
   * taken and `maxWaiting` callers already wait.
   */
  acquire(): Promise<() => void> | undefined {
    if (this.active < this.slots) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.maxWaiting) return undefined;
    // The slot passes straight from the releasing holder to the waiter: `active` stays counted.
    return new Promise((resolve) => this.waiting.push(() => resolve(this.releaser())));
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    };
  }
}
