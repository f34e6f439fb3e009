import { existsSync, statSync } from 'node:fs';
import { HnswIndex, type VectorSource } from '../index/hnswIndex.js';
import { ImageStore } from '../store/imageStore.js';
import { hnswPath, indexLayout } from '../store/indexLayout.js';
import type { IndexMeta } from '../store/types.js';
import { VectorMatrix } from './vectorMatrix.js';

/** Corpora up to this many vectors are scanned exactly on every query (scope `exact`). */
export const DEFAULT_EXACT_SCAN_LIMIT = 100_000;

/**
 * One consistent view of an index: the vectors of one read of the store, and an HNSW graph reconciled with
 * exactly those. A query uses one snapshot from start to end, so a reload never mixes two states.
 */
export interface IndexSnapshot {
  /** Increases by one on every reload. */
  readonly generation: number;
  readonly meta: IndexMeta | undefined;
  /** Images that have a vector (searchable). */
  readonly vectorCount: number;
  /** Present while the corpus is small enough to scan exactly. */
  readonly matrix: VectorMatrix | undefined;
  /** Absent only when there are no vectors yet. */
  readonly index: HnswIndex | undefined;
  readonly loadedAt: Date;
}

export interface IndexReaderOptions {
  readonly exactScanLimit?: number;
}

/**
 * Read side of an index directory for a long-running server. An ingest may add images while the server runs:
 * before each query the reader compares a cheap signature (size and mtime of the SQLite file, its WAL and the
 * HNSW file) with the one it loaded, and reloads when it changed. Reloads are single-flight and swap the
 * snapshot atomically.
 */
export class IndexReader {
  private snapshot: IndexSnapshot | undefined;
  private signature = '';
  private reloading: Promise<IndexSnapshot> | undefined;

  private constructor(
    readonly dir: string,
    readonly store: ImageStore,
    private readonly exactScanLimit: number,
  ) {}

  /** Opens the index in `dir` read-only; fails clearly when there is none. */
  static async open(dir: string, options: IndexReaderOptions = {}): Promise<IndexReader> {
    if (!existsSync(indexLayout(dir).database)) throw new MissingIndexError(dir);
    const reader = new IndexReader(dir, ImageStore.open(dir, { readonly: true }), options.exactScanLimit ?? DEFAULT_EXACT_SCAN_LIMIT);
    await reader.current();
    return reader;
  }

  /** The up-to-date snapshot (reloads first when the files changed since the last one). */
  async current(): Promise<IndexSnapshot> {
    if (this.reloading) return this.reloading;
    const signature = this.readSignature();
    if (this.snapshot && signature === this.signature) return this.snapshot;
    this.reloading = this.load(signature).finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  close(): void {
    this.store.close();
  }

  private async load(signature: string): Promise<IndexSnapshot> {
    // One read transaction: the meta, the count and the vectors all come from the same committed state.
    const { meta, vectorCount, packed } = this.store.transaction(() => {
      const count = this.store.vectorCount();
      return {
        meta: this.store.getMeta(),
        vectorCount: count,
        packed: count <= this.exactScanLimit ? this.store.allVectors() : undefined,
      };
    });
    const matrix = meta && packed ? VectorMatrix.fromPacked(packed) : undefined;
    // The graph is made to agree, in memory only, with exactly the matrix's vectors (or, above the exact-scan
    // limit, with the store as it is now): missing vectors added, labels of removed images dropped.
    const index =
      meta && vectorCount > 0
        ? (await HnswIndex.openReconciled(matrix ? matrixSource(matrix) : this.store, hnswPath(this.dir, meta.modelVersion), meta.dim)).index
        : undefined;
    this.snapshot = {
      generation: (this.snapshot?.generation ?? 0) + 1,
      meta,
      vectorCount,
      matrix,
      index,
      loadedAt: new Date(),
    };
    this.signature = signature;
    return this.snapshot;
  }

  private readSignature(): string {
    const database = indexLayout(this.dir).database;
    const meta = this.snapshot?.meta;
    const files = [database, `${database}-wal`, ...(meta ? [hnswPath(this.dir, meta.modelVersion)] : [])];
    return files.map(fileStamp).join('|');
  }
}

/** The matrix as the vector source an HNSW graph is reconciled with. */
function matrixSource(matrix: VectorMatrix): VectorSource {
  const ids = Array.from(matrix.ids).sort((a, b) => a - b);
  return {
    vectorIds: () => ids,
    getVectors: (wanted) => new Map(wanted.flatMap((id) => (matrix.vector(id) ? [[id, matrix.vector(id)!] as const] : []))),
    forEachVector: (callback) => ids.forEach((id) => callback(id, matrix.vector(id)!)),
  };
}

function fileStamp(path: string): string {
  const stat = statSync(path, { throwIfNoEntry: false, bigint: true });
  return stat ? `${stat.size}:${stat.mtimeNs}` : '-';
}

export class MissingIndexError extends Error {
  constructor(readonly dir: string) {
    super(`no index in ${dir}: build one with \`npm run ingest -- <folder of images>\` (or run \`npm run demo\`)`);
    this.name = 'MissingIndexError';
  }
}
