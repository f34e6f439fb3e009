import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { cocoFiles } from './cocoVectors.js';

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `lipsearch-${prefix}-`));
}

/** Copies COCO photos [from, from + n) (sorted by name) into `dir` (created); returns the copies' paths. */
export function copyCoco(dir: string, n: number, from = 0): string[] {
  mkdirSync(dir, { recursive: true });
  return cocoFiles(from + n).slice(from).map((src) => {
    const dest = join(dir, basename(src));
    copyFileSync(src, dest);
    return dest;
  });
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
