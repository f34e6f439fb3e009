import { join } from 'node:path';

/**
 * The files of one index directory. Everything that reads or writes an index finds its files here, so the
 * ingest CLI, the server and the tests agree on one layout.
 */
export interface IndexLayout {
  readonly dir: string;
  /** SQLite database: the source of truth (images, paths, vectors, errors, meta). */
  readonly database: string;
  /** `<sha256>.webp` thumbnails for the UI. */
  readonly thumbnails: string;
  /** Held by the one process allowed to write (see src/ingest/lock.ts). */
  readonly writerLock: { readonly lock: string; readonly holder: string };
}

export function indexLayout(dir: string): IndexLayout {
  return {
    dir,
    database: join(dir, 'images.sqlite'),
    thumbnails: join(dir, 'thumbs'),
    writerLock: { lock: join(dir, 'writer-lock.sqlite'), holder: join(dir, 'writer.pid') },
  };
}

/**
 * The HNSW file of the vectors of one model. Its name carries the model version, so a file built by another
 * model (e.g. before a `--reindex`) is never mistaken for the current one: it is simply not found and rebuilt.
 */
export function hnswPath(dir: string, modelVersion: string): string {
  return join(dir, `vectors-${modelVersion.slice(0, 16)}.hnsw`);
}

export function isHnswFileName(name: string): boolean {
  return /^vectors-[0-9a-f]{1,16}\.hnsw$/.test(name);
}

export function thumbnailPath(dir: string, sha256: string): string {
  return join(indexLayout(dir).thumbnails, `${sha256}.webp`);
}
