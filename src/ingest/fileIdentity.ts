import { webcrypto } from 'node:crypto';

/** What a re-run compares to decide, without reading the file, that a known path is unchanged. */
export interface FileStamp {
  readonly size: number;
  readonly mtimeMs: number;
}

export function sameStamp(a: FileStamp, b: FileStamp): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs;
}

/** Hex sha256 of a file's bytes: an image's identity. WebCrypto hashes off the main thread. */
export async function contentSha256(bytes: Uint8Array): Promise<string> {
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', bytes)).toString('hex');
}
