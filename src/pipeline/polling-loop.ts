/**
 * The loop every queue consumer runs: call `runOnce` while it finds work; when the queue is empty,
 * sleep `idleMs` or until `notify()`; `stop()` lets the batch in hand finish. Shared by the event
 * worker and the post-process/notify processors.
 */
export class PollingLoop {
  #running = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;

  constructor(
    private readonly runOnce: () => Promise<number>,
    private readonly idleMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Stops after the batch in hand is done. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
  }

  /** Wakes an idle loop: new tasks are waiting. */
  notify(): void {
    this.#wake?.();
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let n = 0;
      try {
        n = await this.runOnce();
      } catch (err) {
        this.onError(err);
      }
      if (n === 0 && this.#running) {
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, this.idleMs);
          this.#wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
        this.#wake = null;
      }
    }
  }
}
