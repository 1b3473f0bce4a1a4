/**
 * One pass of a level-triggered controller at a time: a kick during a pass runs
 * exactly one more pass after it, so no change is missed and passes never overlap.
 */
export class PassRunner {
  private running = false;
  private again = false;

  constructor(
    private readonly pass: () => Promise<unknown>,
    private readonly onError: (err: unknown) => void,
    /** Told how long each pass took, in seconds. */
    private readonly onPassEnd?: (seconds: number) => void,
  ) {}

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
