// Short content ids: the first 16 hex digits (64 bits) of a SHA-256. Used for incident,
// message and file-identity ids, where a collision would merge two things but never
// leak one; pure, no IO.

import { createHash } from 'node:crypto';

export function hash16(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex').slice(0, 16);
}
