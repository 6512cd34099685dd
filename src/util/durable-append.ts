// An append-only file written as records arrive and made durable later: the daemon's
// events file, incident journal and alert stream are fsynced once per checkpoint (before
// a saved reading position can cover them), not once per record.

import fs from 'node:fs';

export class DurableAppend {
  private unsynced = false;
  private closed = false;

  constructor(readonly fd: number) {}

  write(data: string | Buffer): void {
    if (typeof data === 'string') fs.writeSync(this.fd, data);
    else fs.writeSync(this.fd, data);
    this.unsynced = true;
  }

  /** fsyncs what was written since the last sync (nothing to do when nothing was). */
  sync(): void {
    if (!this.unsynced) return;
    fs.fsyncSync(this.fd);
    this.unsynced = false;
  }

  /** Idempotent: a second close must not close a descriptor the process reused meanwhile. */
  close(): void {
    if (this.closed) return;
    this.sync();
    this.closed = true;
    fs.closeSync(this.fd);
  }
}
