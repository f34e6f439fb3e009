import { describeLocation, indexLocation, type IndexLocation } from '../backend/location.js';
import { openSearchBackend } from '../backend/open.js';
import type { NeighbourSearch, SearchBackend } from '../backend/searchBackend.js';
import type { ImageReadRepository, VectorSource } from '../store/repository.js';
import type { IndexMeta } from '../store/types.js';
import { VectorMatrix } from './vectorMatrix.js';

/** Corpora up to this many vectors are scanned exactly on every query (scope `exact`). */
export const DEFAULT_EXACT_SCAN_LIMIT = 100_000;

/**
 * One consistent view of an index: the vectors of one read of the store, and an ANN index agreeing with
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
  readonly index: NeighbourSearch | undefined;
  readonly loadedAt: Date;
}

export interface IndexReaderOptions {
  readonly exactScanLimit?: number;
}

/**
 * Read side of an index for a long-running server, whatever its backend. An ingest may add images while the
 * server runs: before each query the reader compares a cheap signature of the backend (file stamps for the
 * embedded index, a change counter in PostgreSQL) with the one it loaded, and reloads when it changed. Reloads
 * are single-flight and swap the snapshot atomically.
 */
export class IndexReader {
  private snapshot: IndexSnapshot | undefined;
  private signature = '';
  private reloading: Promise<IndexSnapshot> | undefined;

  private constructor(
    private readonly backend: SearchBackend,
    private readonly exactScanLimit: number,
  ) {}

  /** Opens the index in a folder (or at a location) read-only; fails clearly when there is none. */
  static async open(where: string | IndexLocation, options: IndexReaderOptions = {}): Promise<IndexReader> {
    const location = typeof where === 'string' ? indexLocation({ indexDir: where }) : where;
    const backend = await openSearchBackend(location);
    if (!backend) throw new MissingIndexError(location);
    const reader = new IndexReader(backend, options.exactScanLimit ?? DEFAULT_EXACT_SCAN_LIMIT);
    try {
      await reader.current();
    } catch (err) {
      await backend.close();
      throw err;
    }
    return reader;
  }

  /** The index's images, paths, vectors and errors. */
  get store(): ImageReadRepository {
    return this.backend.repository;
  }

  /** The stored WebP thumbnail of a content, if the ingest made one. */
  thumbnail(sha256: string): Promise<Buffer | undefined> {
    return this.backend.thumbnail(sha256);
  }

  /** The up-to-date snapshot (reloads first when the backend changed since the last one). */
  async current(): Promise<IndexSnapshot> {
    if (this.reloading) return this.reloading;
    const signature = await this.backend.signature(this.snapshot?.meta);
    if (this.reloading) return this.reloading; // another query started the reload meanwhile
    if (this.snapshot && signature === this.signature) return this.snapshot;
    this.reloading = this.load(signature).finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  close(): Promise<void> {
    return this.backend.close();
  }

  private async load(signature: string): Promise<IndexSnapshot> {
    const { meta, vectorCount, packed } = await this.store.readSnapshot(this.exactScanLimit);
    const matrix = meta && packed ? VectorMatrix.fromPacked(packed) : undefined;
    // The ANN index agrees with exactly the matrix's vectors (or, above the exact-scan limit, with the store as
    // it is now).
    const index =
      meta && vectorCount > 0 ? await this.backend.neighbourSearch(meta, vectorCount, matrix && matrixSource(matrix)) : undefined;
    this.snapshot = {
      generation: (this.snapshot?.generation ?? 0) + 1,
      meta,
      vectorCount,
      matrix,
      index,
      loadedAt: new Date(),
    };
    // The signature read before loading: a commit during the load shows as a change at the next query.
    this.signature = signature;
    return this.snapshot;
  }
}

/** The matrix as the vector source an HNSW graph is reconciled with. */
function matrixSource(matrix: VectorMatrix): VectorSource {
  const ids = Array.from(matrix.ids).sort((a, b) => a - b);
  return {
    vectorIds: async () => ids,
    getVectors: async (wanted) => new Map(wanted.flatMap((id) => (matrix.vector(id) ? [[id, matrix.vector(id)!] as const] : []))),
    forEachVector: async (callback) => ids.forEach((id) => callback(id, matrix.vector(id)!)),
  };
}

export class MissingIndexError extends Error {
  constructor(location: IndexLocation) {
    super(
      location.kind === 'embedded'
        ? `no index in ${location.dir}: build one with \`npm run ingest -- <folder of images>\` (or run \`npm run demo\`)`
        : `no index in ${describeLocation(location)} yet: build one with \`npm run ingest -- <folder of images> --database <url>\``,
    );
    this.name = 'MissingIndexError';
  }
}
