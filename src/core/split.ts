// Cuts a byte stream into lines. Pure: it never reads a file, it is fed chunks.
// Owns: partial last lines (held until their newline arrives), the max_line_bytes bound
// (a longer line is cut to the bound and counted), CRLF endings, and the count of bytes
// consumed by complete lines (what a checkpoint may safely record).

export interface SplitStats {
  lines: number;
  /** Lines longer than max_line_bytes: emitted cut to the bound. */
  cut: number;
}

export type LineHandler = (line: string) => void;

export class LineSplitter {
  readonly stats: SplitStats = { lines: 0, cut: 0 };
  private readonly maxLineBytes: number;
  private carry: Buffer[] = [];
  private carryBytes = 0;
  /** The line being carried is already over the bound: drop bytes until its newline. */
  private overflowing = false;
  private consumedBytes = 0;
  /** Bytes of the unfinished line, including any dropped past the bound. */
  private pendingBytes = 0;

  constructor(maxLineBytes: number) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) throw new RangeError('maxLineBytes must be a positive integer');
    this.maxLineBytes = maxLineBytes;
  }

  /** Bytes of the input that belong to lines already emitted (newline included). */
  get consumed(): number {
    return this.consumedBytes;
  }

  /** Bytes held for a line whose newline has not arrived yet. */
  get pending(): number {
    return this.pendingBytes;
  }

  push(chunk: Buffer, onLine: LineHandler): void {
    let start = 0;
    const len = chunk.length;
    while (start < len) {
      const nl = chunk.indexOf(10, start);
      if (nl === -1) {
        this.hold(chunk, start, len);
        return;
      }
      if (this.carryBytes === 0 && !this.overflowing) {
        this.emit(chunk, start, nl, onLine);
      } else {
        this.hold(chunk, start, nl);
        this.emitCarry(onLine);
      }
      this.consumedBytes += 1; // the newline itself
      start = nl + 1;
    }
  }

  /** End of input (scan): a last line without newline is still a line. */
  end(onLine: LineHandler): void {
    if (this.carryBytes > 0 || this.overflowing) this.emitCarry(onLine);
  }

  private hold(chunk: Buffer, start: number, end: number): void {
    this.pendingBytes += end - start;
    if (this.overflowing) return;
    const room = this.maxLineBytes - this.carryBytes;
    const take = Math.min(room, end - start);
    if (take > 0) {
      // Copy: the caller may reuse its read buffer.
      this.carry.push(Buffer.from(chunk.subarray(start, start + take)));
      this.carryBytes += take;
    }
    if (end - start > room) this.overflowing = true;
  }

  private emitCarry(onLine: LineHandler): void {
    const buf = this.carry.length === 1 ? this.carry[0]! : Buffer.concat(this.carry, this.carryBytes);
    const cut = this.overflowing;
    this.carry = [];
    this.carryBytes = 0;
    this.overflowing = false;
    this.consumedBytes += this.pendingBytes;
    this.pendingBytes = 0;
    if (cut) this.stats.cut++;
    this.stats.lines++;
    onLine(decode(buf, 0, buf.length, cut));
  }

  private emit(chunk: Buffer, start: number, end: number, onLine: LineHandler): void {
    this.consumedBytes += end - start;
    let stop = end;
    let cut = false;
    if (stop - start > this.maxLineBytes) {
      stop = start + this.maxLineBytes;
      cut = true;
      this.stats.cut++;
    }
    this.stats.lines++;
    onLine(decode(chunk, start, stop, cut));
  }
}

function decode(buf: Buffer, start: number, end: number, cut: boolean): string {
  // A CR before the newline belongs to the line ending (CRLF logs such as traefik's).
  if (!cut && end > start && buf[end - 1] === 13) end--;
  return buf.toString('utf8', start, end);
}
