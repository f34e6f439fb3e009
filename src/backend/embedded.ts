import { existsSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { HnswIndex, type HnswOptions, type ReconcileReport } from '../index/hnswIndex.js';
import { type WriterLock, acquireWriterLock } from '../ingest/lock.js';
import { writeThumbnailFile } from '../ingest/thumbnails.js';
import { hnswPath, indexLayout, isHnswFileName, thumbnailPath } from '../store/indexLayout.js';
import type { RemovedImage, VectorSource } from '../store/repository.js';
import { SqliteRepository } from '../store/sqliteRepository.js';
import type { IndexMeta } from '../store/types.js';
import { fileStamp } from '../util/fileStamp.js';
import type { IngestTarget, Thumbnail } from './ingestTarget.js';
import type { NeighbourSearch, SearchBackend } from './searchBackend.js';

/**
 * The embedded backend's ingest side: one writer at a time (the file lock), SQLite as the source of truth, an
 * hnswlib graph saved to a file beside it, and thumbnails written as files by the decode workers.
 */
export class EmbeddedIngestTarget implements IngestTarget {
  private index: HnswIndex | undefined;

  private constructor(
    readonly dir: string,
    readonly repository: SqliteRepository,
    private readonly lock: WriterLock,
  ) {}

  static async open(dir: string): Promise<EmbeddedIngestTarget> {
    const lock = acquireWriterLock(indexLayout(dir).writerLock);
    try {
      await removeTempFiles(dir);
      return new EmbeddedIngestTarget(dir, SqliteRepository.open(dir), lock);
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  get description(): string {
    return this.dir;
  }

  get ownFolders(): readonly string[] {
    return [this.dir];
  }

  async openVectorIndex(modelVersion: string, dim: number, options: HnswOptions): Promise<ReconcileReport> {
    const { index, report } = await HnswIndex.openReconciled(this.repository, hnswPath(this.dir, modelVersion), dim, options);
    this.index = index;
    return report;
  }

  thumbnailFile(sha256: string): string {
    return thumbnailPath(this.dir, sha256);
  }

  /** Thumbnails made elsewhere (a copied index); an ingest's decode workers write theirs to thumbnailFile. */
  async putThumbnails(thumbnails: readonly Thumbnail[]): Promise<void> {
    await Promise.all(thumbnails.map((t) => writeThumbnailFile(thumbnailPath(this.dir, t.sha256), t.webp)));
  }

  vectorsStored(stored: readonly { readonly id: number; readonly vector: Float32Array }[]): void {
    for (const { id, vector } of stored) this.graph().add(id, vector);
  }

  async imagesRemoved(removed: readonly RemovedImage[]): Promise<void> {
    for (const image of removed) this.graph().remove(image.id);
    // Before the same content can return, so a new thumbnail is never mistaken for the old one.
    await Promise.all(removed.map((image) => rm(thumbnailPath(this.dir, image.sha256), { force: true })));
  }

  checkpoint(): Promise<void> {
    return this.graph().save();
  }

  async finish(): Promise<void> {
    await this.graph().save();
    await removeOtherModelFiles(this.dir, this.graph().path);
  }

  async close(): Promise<void> {
    try {
      await this.repository.close();
    } finally {
      this.lock.release();
    }
  }

  private graph(): HnswIndex {
    if (!this.index) throw new Error('internal error: the HNSW index is used before openVectorIndex');
    return this.index;
  }
}

/** The embedded backend's read side: SQLite read-only beside the writer, and the HNSW file. */
export class EmbeddedSearchBackend implements SearchBackend {
  private constructor(
    readonly dir: string,
    readonly repository: SqliteRepository,
  ) {}

  /** Opens read-only; undefined when the folder holds no index. */
  static open(dir: string): EmbeddedSearchBackend | undefined {
    if (!existsSync(indexLayout(dir).database)) return undefined;
    return new EmbeddedSearchBackend(dir, SqliteRepository.open(dir, { readonly: true }));
  }

  get description(): string {
    return this.dir;
  }

  async signature(meta: IndexMeta | undefined): Promise<string> {
    const graph = meta ? fileStamp(hnswPath(this.dir, meta.modelVersion)) : '-';
    return `${await this.repository.changeSignature()}|${graph}`;
  }

  async neighbourSearch(meta: IndexMeta, _vectorCount: number, source: VectorSource | undefined): Promise<NeighbourSearch> {
    // Made to agree, in memory only, with the source: missing vectors added, labels of removed images dropped.
    const { index } = await HnswIndex.openReconciled(source ?? this.repository, hnswPath(this.dir, meta.modelVersion), meta.dim);
    return { size: () => index.size(), search: async (vector, k, ef) => index.search(vector, k, ef) };
  }

  async thumbnail(sha256: string): Promise<Buffer | undefined> {
    const file = thumbnailPath(this.dir, sha256);
    return existsSync(file) ? readFile(file) : undefined;
  }

  close(): Promise<void> {
    return this.repository.close();
  }
}

/** Temp files of writes a crash interrupted (HNSW saves, thumbnails). Only the lock holder calls this. */
async function removeTempFiles(dir: string): Promise<void> {
  for (const folder of [dir, indexLayout(dir).thumbnails]) {
    const names = await readdir(folder).catch(() => [] as string[]);
    await Promise.all(names.filter((n) => n.endsWith('.tmp')).map((n) => rm(join(folder, n), { force: true })));
  }
}

/** HNSW files of other models (e.g. from before a --reindex): never read again. */
async function removeOtherModelFiles(dir: string, keep: string): Promise<void> {
  const names = await readdir(dir);
  await Promise.all(
    names.filter((n) => isHnswFileName(n) && join(dir, n) !== keep).map((n) => rm(join(dir, n), { force: true })),
  );
}
