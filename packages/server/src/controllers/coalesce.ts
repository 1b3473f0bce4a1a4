import type { Store, WatchEvent, Watcher } from '@wharf/store';

/** What starts a controller's passes besides an explicit kick. */
export interface PassTriggers {
  /** Key prefixes whose changes (from start on) run a pass. */
  prefixes: readonly string[];
  /** Which changes under a prefix run a pass (default: every one). */
  wakes?: (prefix: string, ev: WatchEvent) => boolean;
  /** A pass runs this often regardless. */
  resyncMs: number;
}

/**
 * One pass of a level-triggered controller at a time: a kick during a pass runs
 * exactly one more pass after it, so no change is missed and passes never overlap.
 */
export class PassRunner {
  private running = false;
  private again = false;
  private watchers: Watcher[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pass: () => Promise<unknown>,
    private readonly onError: (err: unknown) => void,
    /** Told how long each pass took, in seconds. */
    private readonly onPassEnd?: (seconds: number) => void,
  ) {}

  /** Watches the prefixes and starts the resync timer, then runs a first pass. */
  async start(store: Store, triggers: PassTriggers): Promise<void> {
    const rev = await store.revision();
    for (const prefix of triggers.prefixes) {
      this.watchers.push(await store.watch(prefix, (ev) => {
        if (!triggers.wakes || triggers.wakes(prefix, ev)) this.kick();
      }, { fromRevision: rev + 1 }));
    }
    this.timer = setInterval(() => this.kick(), triggers.resyncMs);
    this.kick();
  }

  /** Stops the watches and the timer; a pass under way finishes. */
  stop(): void {
    for (const w of this.watchers) w.cancel();
    this.watchers = [];
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Between start and stop. */
  get started(): boolean {
    return this.timer !== undefined;
  }

  /** Runs a pass now, or once more after the current one. */
  kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    const started = performance.now();
    void this.pass()
      .catch(this.onError)
      .finally(() => {
        this.onPassEnd?.((performance.now() - started) / 1000);
        this.running = false;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  /** The pass lost a race: look again once it is over. */
  requestAgain(): void {
    this.again = true;
  }
}
