/**
 * Tells deaths by the agent's own hand (stop, remove) from crashes, so that only
 * crashes become Died events. Docker's die event carries no "who".
 */
const EXPECT_FOR_MS = 60_000;

export class ExitTracker {
  private readonly expected = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The agent is about to stop or remove this container. */
  expect(containerId: string): void {
    this.prune();
    this.expected.set(containerId, this.now() + EXPECT_FOR_MS);
  }

  /** For a die event: true when nobody asked for it (a crash, an OOM kill, a manual stop). */
  unexpected(containerId: string): boolean {
    const until = this.expected.get(containerId);
    this.expected.delete(containerId);
    return until === undefined || until < this.now();
  }

  private prune(): void {
    const now = this.now();
    for (const [id, until] of this.expected) if (until < now) this.expected.delete(id);
  }
}
