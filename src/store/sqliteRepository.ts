import { ImageStore, type OpenStoreOptions } from './imageStore.js';
import { indexLayout } from './indexLayout.js';
import type {
  BatchEntry,
  ContentOutcome,
  ImageRepository,
  PathState,
  PinChange,
  RemovedImage,
  ShaState,
  StoredSnapshot,
} from './repository.js';
import type { ImageRecord, IndexMeta, IngestErrorRecord } from './types.js';
import { fileStamp } from '../util/fileStamp.js';

/**
 * The embedded backend's repository: the synchronous SQLite ImageStore behind the asynchronous interface.
 * Every compound write runs in one SQLite transaction, exactly as the ingest ran it before the interface.
 */
export class SqliteRepository implements ImageRepository {
  private constructor(
    readonly dir: string,
    readonly store: ImageStore,
  ) {}

  static open(dir: string, options: OpenStoreOptions = {}): SqliteRepository {
    return new SqliteRepository(dir, ImageStore.open(dir, options));
  }

  async getMeta(): Promise<IndexMeta | undefined> {
    return this.store.getMeta();
  }

  async count(): Promise<number> {
    return this.store.count();
  }

  async getImage(id: number): Promise<ImageRecord | undefined> {
    return this.store.getImage(id);
  }

  async getImages(ids: readonly number[]): Promise<ImageRecord[]> {
    return this.store.getImages(ids);
  }

  async listImages(offset: number, limit: number): Promise<ImageRecord[]> {
    return this.store.listImages(offset, limit);
  }

  async findByPath(path: string): Promise<ImageRecord | undefined> {
    return this.store.findByPath(path);
  }

  async getVector(id: number): Promise<Float32Array | undefined> {
    return this.store.getVector(id);
  }

  async getVectors(ids: readonly number[]): Promise<Map<number, Float32Array>> {
    return this.store.getVectors(ids);
  }

  async vectorCount(): Promise<number> {
    return this.store.vectorCount();
  }

  async vectorIds(): Promise<number[]> {
    return this.store.vectorIds();
  }

  async forEachVector(callback: (id: number, vector: Float32Array) => void): Promise<void> {
    this.store.forEachVector(callback);
  }

  async readSnapshot(packLimit: number): Promise<StoredSnapshot> {
    // One read transaction: the meta, the count and the vectors all come from the same committed state.
    return this.store.transaction(() => {
      const vectorCount = this.store.vectorCount();
      return {
        meta: this.store.getMeta(),
        vectorCount,
        packed: vectorCount <= packLimit ? this.store.allVectors() : undefined,
      };
    });
  }

  async listErrors(limit: number): Promise<IngestErrorRecord[]> {
    return this.store.listErrors(limit);
  }

  async countErrors(): Promise<number> {
    return this.store.countErrors();
  }

  /** Size and mtime of the database file and its WAL: every commit changes one of them. */
  async changeSignature(): Promise<string> {
    const database = indexLayout(this.dir).database;
    return [database, `${database}-wal`].map(fileStamp).join('|');
  }

  async close(): Promise<void> {
    this.store.close();
  }

  async pinModel(decide: (meta: IndexMeta | undefined, images: number) => PinChange): Promise<void> {
    // better-sqlite3 transactions are synchronous: no other writer (there is one, the lock holder) can interleave.
    this.store.transaction(() => {
      const change = decide(this.store.getMeta(), this.store.count());
      if (change.kind === 'keep') return;
      if (change.clear === 'all') this.store.clearVectors();
      else if (change.clear !== 'none') this.store.clearVectorsOfImagesFrom(change.clear.fromSide);
      this.store.setMeta(change.meta);
    });
  }

  async pathStates(paths: readonly string[]): Promise<Map<string, PathState>> {
    const states = new Map<string, PathState>();
    for (const path of paths) {
      const state = this.store.pathState(path);
      if (state) states.set(path, state);
    }
    return states;
  }

  async shaState(sha256: string): Promise<ShaState | undefined> {
    return this.store.shaState(sha256);
  }

  async commitBatch(entries: readonly BatchEntry[]): Promise<(ContentOutcome | undefined)[]> {
    return this.store.transaction(() => entries.map((entry) => this.commitOne(entry)));
  }

  async recordError(path: string, reason: string): Promise<void> {
    this.store.recordError(path, reason);
  }

  async removeOrphans(): Promise<RemovedImage[]> {
    return this.store.removeOrphans();
  }

  async allPaths(): Promise<string[]> {
    return this.store.allPaths();
  }

  async forgetPaths(paths: readonly string[]): Promise<void> {
    this.store.transaction(() => {
      for (const path of paths) {
        this.store.removePath(path);
        this.store.clearError(path);
      }
    });
  }

  private commitOne(entry: BatchEntry): ContentOutcome | undefined {
    if (entry.kind === 'failed') {
      if (entry.forgetPath) this.store.removePath(entry.path);
      this.store.recordError(entry.path, entry.reason);
      return undefined;
    }
    const state = this.store.shaState(entry.sha256);
    let imageId: number;
    let vectorStored = false;
    if (!state?.embedded) {
      if (!entry.vector || !entry.image) throw new Error(`internal error: ${entry.path} reached the store without a vector`);
      imageId = state?.imageId ?? this.store.insertImage(entry.image);
      this.store.setVector(imageId, entry.vector);
      vectorStored = true;
    } else {
      imageId = state.imageId; // a copy: the vector (if one was computed meanwhile) is not needed
    }
    this.store.putPath(entry.path, imageId, entry.size, entry.mtimeMs);
    this.store.clearError(entry.path);
    return { imageId, existed: state !== undefined, vectorStored };
  }
}
