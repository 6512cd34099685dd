// The vocabulary of following a file: where reading stands (what a checkpoint records),
// the batches and events a tail hands out, why a path cannot be read, and the state of
// one open file. Types only: it never touches a file, so every tail module can share it
// without importing another one's code.

import type { LineSplitter } from '../core/split.js';
import type { Fingerprint } from './fingerprint.js';

/** Where reading stands in one file: what a checkpoint records. */
export interface TailPosition {
  path: string;
  fingerprint: Fingerprint;
  /** Bytes of complete lines processed. */
  offset: number;
  /** Lines processed (the next line is line + 1). */
  line: number;
  /**
   * hashBefore of the bytes just before offset: with the fingerprint's first bytes, what
   * recognises the file replaced by a byte-identical copy. Absent in older checkpoints.
   */
  before?: string;
}

export interface TailBatch {
  /** The file the lines come from (the old name while a rotated file is drained). */
  file: string;
  lines: string[];
  /** Line number of lines[0]. */
  firstLine: number;
}

/** Why the followed path cannot be read now; reported once until it clears. */
export type TailProblem =
  | { kind: 'missing' }
  | { kind: 'unreadable'; error: NodeJS.ErrnoException }
  /** A directory, FIFO, socket or device: never opened (a FIFO's open blocks). */
  | { kind: 'not-a-file'; type: string }
  /** A symbolic link resolving outside the confining directory. */
  | { kind: 'outside'; target: string };

export type TailEvent =
  | { kind: 'opened'; file: string; from: 'checkpoint' | 'beginning' | 'end' }
  | { kind: 'rotated'; file: string; drained: number }
  /** The open file was deleted or replaced by something that is not a file; it was read to its end. */
  | { kind: 'gone'; file: string; drained: number }
  | { kind: 'truncated'; file: string; offset: number }
  /** The path now holds a byte-identical copy under another inode; reading goes on at offset in it. */
  | { kind: 'replaced'; file: string; offset: number }
  | { kind: 'problem'; file: string; problem: TailProblem }
  /** A reported problem (other than a missing file) has cleared: the file is read again. */
  | { kind: 'readable'; file: string; after: TailProblem }
  | { kind: 'recovered'; file: string; from: string; lines: number };

/** One file being read: its descriptor, identity, position and unfinished line. */
export interface OpenFile {
  fd: number;
  fp: Fingerprint;
  name: string;
  offset: number;
  line: number;
  splitter: LineSplitter;
}
