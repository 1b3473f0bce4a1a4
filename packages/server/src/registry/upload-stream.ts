/**
 * A TarSource over a stream (the upload's request body): small reads are gathered
 * from the stream's chunks, large data is passed on chunk by chunk (`chunks`)
 * without being gathered, so an upload holds at most a chunk or two in memory.
 */
import { ArchiveError, type TarSource } from '@wharf/types';

export class StreamTarSource implements TarSource {
  position = 0;
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private ended = false;
  private readonly input: AsyncIterator<Uint8Array>;

  constructor(body: AsyncIterable<Uint8Array>) {
    this.input = body[Symbol.asyncIterator]();
  }

  /** Bytes taken from the input so far (read, skipped or waiting). */
  get received(): number {
    return this.position + this.pendingBytes;
  }

  private async fill(): Promise<boolean> {
    if (this.ended) return false;
    const r = await this.input.next();
    if (r.done) {
      this.ended = true;
      return false;
    }
    const b = Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
    this.pending.push(b);
    this.pendingBytes += b.length;
    return true;
  }

  /** Up to `n` bytes of what is pending, as they are (no copy unless chunks are joined). */
  private take(n: number): Buffer {
    const parts: Buffer[] = [];
    let left = n;
    while (left > 0 && this.pending.length > 0) {
      const head = this.pending[0]!;
      if (head.length <= left) {
        parts.push(head);
        this.pending.shift();
        left -= head.length;
      } else {
        parts.push(head.subarray(0, left));
        this.pending[0] = head.subarray(left);
        left = 0;
      }
    }
    const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    this.pendingBytes -= out.length;
    this.position += out.length;
    return out;
  }

  async read(n: number): Promise<Uint8Array> {
    while (this.pendingBytes < n && (await this.fill()));
    return this.take(Math.min(n, this.pendingBytes));
  }

  async skip(n: number): Promise<void> {
    for await (const chunk of this.chunks(n)) void chunk;
  }

  /** The next `n` bytes, chunk by chunk; an ArchiveError when the input ends first. */
  async *chunks(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.pendingBytes === 0 && !(await this.fill())) throw new ArchiveError(`the archive ends ${left} bytes early: it is truncated`);
      const c = this.take(Math.min(left, this.pendingBytes));
      left -= c.length;
      yield c;
    }
  }

  /** Reads what is left of the input (after the end-of-archive blocks). */
  async drain(): Promise<void> {
    while (await this.fill()) this.take(this.pendingBytes);
  }
}
