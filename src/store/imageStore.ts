import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { indexLayout } from './indexLayout.js';
import { type ImageRow, imageRecord, metaEntries, metaFromEntries } from './rows.js';
import { SCHEMA_VERSION, migrate, schemaVersionOf } from './migrations.js';
import type { NewImage, PackedVectors, PathState, RemovedImage, ShaState } from './repository.js';
import type { ImageRecord, IndexMeta, IngestErrorRecord } from './types.js';

export interface OpenStoreOptions {
  /** Readers (the server) open read-only: no migrations, no writes, and they never block the writer. */
  readonly readonly?: boolean;
}

export type { NewImage, PackedVectors, PathState, RemovedImage, ShaState } from './repository.js';

/** Float32 vectors are stored as their little-endian bytes. */
function vectorToBlob(vector: Float32Array): Buffer {
  return Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength);
}

/** Copies (SQLite buffers need not be 4-byte aligned, and the copy must outlive the statement). */
function blobToVector(blob: Buffer): Float32Array {
  const out = new Float32Array(blob.byteLength / 4);
  new Uint8Array(out.buffer).set(blob);
  return out;
}

/**
 * The SQLite store of an index: the source of truth for images, their paths, their vectors, ingest errors and
 * the model the index is pinned to. WAL mode lets any number of readers work while one ingest writes.
 */
export class ImageStore {
  private readonly statements: ReturnType<typeof prepareStatements>;

  private constructor(private readonly db: Database.Database) {
    this.statements = prepareStatements(db);
  }

  /** Opens (creating and migrating unless read-only) the store of the index in `dir`. */
  static open(dir: string, options: OpenStoreOptions = {}): ImageStore {
    const file = indexLayout(dir).database;
    if (!options.readonly) mkdirSync(dir, { recursive: true });
    const db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    try {
      db.pragma('busy_timeout = 10000');
      db.pragma('foreign_keys = ON');
      if (options.readonly) {
        const version = schemaVersionOf(db);
        if (version !== SCHEMA_VERSION) {
          throw new Error(`index at ${dir} has schema version ${version}, expected ${SCHEMA_VERSION}: run npm run ingest on it`);
        }
      } else {
        db.pragma('journal_mode = WAL');
        // FULL: a commit is on disk before it returns (one fsync per ingest batch). NORMAL would survive a killed
        // process but could lose the last commits to a power cut, while the fsynced HNSW file already holds their
        // ids: the next ingest would then give those ids to other images, whose stale vectors the graph would keep.
        db.pragma('synchronous = FULL');
        migrate(db);
      }
      return new ImageStore(db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Runs `fn` in one transaction: all of its writes land, or none. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  // ---- metadata

  getMeta(): IndexMeta | undefined {
    const rows = this.statements.allMeta.all() as { key: string; value: string }[];
    return metaFromEntries(new Map(rows.map((r) => [r.key, r.value])), schemaVersionOf(this.db));
  }

  /** Records the model the index is pinned to (the schema version is the database's own). */
  setMeta(meta: Omit<IndexMeta, 'schemaVersion'>): void {
    this.transaction(() => {
      for (const [key, value] of metaEntries(meta)) this.statements.putMeta.run(key, value);
    });
  }

  // ---- images

  count(): number {
    return (this.statements.countImages.get() as { n: number }).n;
  }

  getImage(id: number): ImageRecord | undefined {
    return this.getImages([id])[0];
  }

  /** The records of `ids` that exist, in the order given. */
  getImages(ids: readonly number[]): ImageRecord[] {
    if (ids.length === 0) return [];
    const json = JSON.stringify(ids);
    const rows = this.statements.imagesByIds.all(json) as ImageRow[];
    const paths = this.pathsOf(this.statements.pathsByIds.all(json) as { image_id: number; path: string }[]);
    const records = rows.map((r) => imageRecord(r, paths.get(Number(r.id)) ?? []));
    const byId = new Map(records.map((r) => [r.id, r]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /** A page of images ordered by id. */
  listImages(offset: number, limit: number): ImageRecord[] {
    const ids = (this.statements.pageIds.all(limit, offset) as { id: number }[]).map((r) => r.id);
    return this.getImages(ids);
  }

  findByPath(path: string): ImageRecord | undefined {
    const row = this.statements.imageIdByPath.get(path) as { image_id: number } | undefined;
    return row && this.getImage(row.image_id);
  }

  findBySha(sha256: string): ImageRecord | undefined {
    const row = this.statements.imageIdBySha.get(sha256) as { id: number } | undefined;
    return row && this.getImage(row.id);
  }

  shaState(sha256: string): ShaState | undefined {
    const row = this.statements.shaState.get(sha256) as { id: number; embedded: number } | undefined;
    return row && { imageId: row.id, embedded: row.embedded === 1 };
  }

  /** Inserts an image (without paths or vector) and returns its id. */
  insertImage(image: NewImage): number {
    const info = this.statements.insertImage.run(
      image.sha256, image.width, image.height, image.bytes, image.format, image.mtimeMs, new Date().toISOString(),
    );
    return Number(info.lastInsertRowid);
  }

  // ---- paths

  pathState(path: string): PathState | undefined {
    const row = this.statements.pathState.get(path) as
      | { image_id: number; size: number; mtime_ms: number; embedded: number }
      | undefined;
    return row && { imageId: row.image_id, size: row.size, mtimeMs: row.mtime_ms, embedded: row.embedded === 1 };
  }

  /** Points `path` at `imageId` (a path shows one content at a time; call removePath first if it moved). */
  putPath(path: string, imageId: number, size: number, mtimeMs: number): void {
    this.statements.putPath.run(path, imageId, size, mtimeMs);
  }

  /** Forgets `path`. Its image stays (another path may bring the same content back) until removeOrphans(). */
  removePath(path: string): void {
    this.statements.deletePath.run(path);
  }

  /** Deletes the images no path points to any more (with their vectors) and returns them. */
  removeOrphans(): RemovedImage[] {
    return this.transaction(() => {
      const orphans = this.statements.orphans.all() as { id: number; sha256: string }[];
      for (const { id } of orphans) this.statements.deleteImage.run(id);
      return orphans.map(({ id, sha256 }) => ({ id, sha256 }));
    });
  }

  /** Every stored path (for pruning). */
  allPaths(): string[] {
    return this.statements.allPaths.all() as string[];
  }

  // ---- vectors

  setVector(imageId: number, vector: Float32Array): void {
    this.statements.putVector.run(imageId, vectorToBlob(vector));
  }

  /** Drops every vector (re-embedding with another model): the images then await embedding. */
  clearVectors(): void {
    this.statements.clearVectors.run();
  }

  /** Drops the vectors of images whose shorter side is at least `side` pixels: they await embedding again. */
  clearVectorsOfImagesFrom(side: number): number {
    return this.statements.clearVectorsFrom.run(side).changes;
  }

  getVector(id: number): Float32Array | undefined {
    const blob = this.statements.vectorById.get(id) as Buffer | undefined;
    return blob && blobToVector(blob);
  }

  getVectors(ids: readonly number[]): Map<number, Float32Array> {
    const rows = this.statements.vectorsByIds.all(JSON.stringify(ids)) as { image_id: number; vector: Buffer }[];
    return new Map(rows.map((r) => [r.image_id, blobToVector(r.vector)]));
  }

  /** Number of images that have a vector (the others await embedding). */
  vectorCount(): number {
    return (this.statements.countVectors.get() as { n: number }).n;
  }

  /** Ids of the images that have a vector, ascending. */
  vectorIds(): number[] {
    return this.statements.vectorIds.all() as number[];
  }

  /** Streams every vector in id order (one statement; nothing else is held in memory). */
  forEachVector(callback: (id: number, vector: Float32Array) => void): void {
    for (const row of this.statements.allVectors.iterate() as Iterable<{ image_id: number; vector: Buffer }>) {
      callback(row.image_id, blobToVector(row.vector));
    }
  }

  /** Every vector packed into one matrix, for exact scans. */
  allVectors(): PackedVectors {
    const dim = this.getMeta()?.dim ?? 0;
    const n = this.vectorCount();
    const ids: number[] = [];
    const vectors = new Float32Array(n * dim);
    const bytes = new Uint8Array(vectors.buffer);
    for (const row of this.statements.allVectors.iterate() as Iterable<{ image_id: number; vector: Buffer }>) {
      // A writer may add rows between the count and the scan: the matrix holds the first n.
      if (ids.length === n) break;
      if (row.vector.byteLength !== dim * 4) throw new Error(`vector of image ${row.image_id} has the wrong size`);
      bytes.set(row.vector, ids.length * dim * 4);
      ids.push(row.image_id);
    }
    return { ids, vectors: vectors.subarray(0, ids.length * dim), dim };
  }

  // ---- ingest errors

  recordError(path: string, reason: string): void {
    this.statements.putError.run(path, reason, new Date().toISOString());
  }

  clearError(path: string): void {
    this.statements.deleteError.run(path);
  }

  /** The most recent ingest errors first. */
  listErrors(limit: number): IngestErrorRecord[] {
    return (this.statements.listErrors.all(limit) as { path: string; reason: string; at: string }[]).map((r) => ({
      path: r.path,
      reason: r.reason,
      at: r.at,
    }));
  }

  countErrors(): number {
    return (this.statements.countErrors.get() as { n: number }).n;
  }

  close(): void {
    this.db.close();
  }

  private pathsOf(rows: { image_id: number; path: string }[]): Map<number, string[]> {
    const paths = new Map<number, string[]>();
    for (const { image_id, path } of rows) {
      const list = paths.get(image_id);
      if (list) list.push(path);
      else paths.set(image_id, [path]);
    }
    return paths;
  }
}

function prepareStatements(db: Database.Database) {
  const ids = 'SELECT value FROM json_each(?)';
  return {
    allMeta: db.prepare('SELECT key, value FROM meta'),
    putMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    countImages: db.prepare('SELECT count(*) AS n FROM images'),
    imagesByIds: db.prepare(`SELECT * FROM images WHERE id IN (${ids})`),
    // rowid order = the order paths were first seen.
    pathsByIds: db.prepare(`SELECT image_id, path FROM paths WHERE image_id IN (${ids}) ORDER BY rowid`),
    pageIds: db.prepare('SELECT id FROM images ORDER BY id LIMIT ? OFFSET ?'),
    imageIdByPath: db.prepare('SELECT image_id FROM paths WHERE path = ?'),
    imageIdBySha: db.prepare('SELECT id FROM images WHERE sha256 = ?'),
    shaState: db.prepare(
      'SELECT id, EXISTS (SELECT 1 FROM vectors v WHERE v.image_id = images.id) AS embedded FROM images WHERE sha256 = ?',
    ),
    insertImage: db.prepare(
      'INSERT INTO images (sha256, width, height, bytes, format, mtime_ms, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    deleteImage: db.prepare('DELETE FROM images WHERE id = ?'),
    pathState: db.prepare(
      `SELECT p.image_id, p.size, p.mtime_ms, EXISTS (SELECT 1 FROM vectors v WHERE v.image_id = p.image_id) AS embedded
       FROM paths p WHERE p.path = ?`,
    ),
    putPath: db.prepare(
      `INSERT INTO paths (path, image_id, size, mtime_ms) VALUES (?, ?, ?, ?)
       ON CONFLICT(path) DO UPDATE SET image_id = excluded.image_id, size = excluded.size, mtime_ms = excluded.mtime_ms`,
    ),
    deletePath: db.prepare('DELETE FROM paths WHERE path = ?'),
    orphans: db.prepare('SELECT id, sha256 FROM images i WHERE NOT EXISTS (SELECT 1 FROM paths p WHERE p.image_id = i.id)'),
    allPaths: db.prepare('SELECT path FROM paths ORDER BY path').pluck(),
    putVector: db.prepare(
      'INSERT INTO vectors (image_id, vector) VALUES (?, ?) ON CONFLICT(image_id) DO UPDATE SET vector = excluded.vector',
    ),
    clearVectors: db.prepare('DELETE FROM vectors'),
    clearVectorsFrom: db.prepare('DELETE FROM vectors WHERE image_id IN (SELECT id FROM images WHERE min(width, height) >= ?)'),
    vectorById: db.prepare('SELECT vector FROM vectors WHERE image_id = ?').pluck(),
    vectorsByIds: db.prepare(`SELECT image_id, vector FROM vectors WHERE image_id IN (${ids})`),
    vectorIds: db.prepare('SELECT image_id FROM vectors ORDER BY image_id').pluck(),
    countVectors: db.prepare('SELECT count(*) AS n FROM vectors'),
    allVectors: db.prepare('SELECT image_id, vector FROM vectors ORDER BY image_id'),
    putError: db.prepare(
      `INSERT INTO ingest_errors (path, reason, at) VALUES (?, ?, ?)
       ON CONFLICT(path) DO UPDATE SET reason = excluded.reason, at = excluded.at`,
    ),
    deleteError: db.prepare('DELETE FROM ingest_errors WHERE path = ?'),
    listErrors: db.prepare('SELECT path, reason, at FROM ingest_errors ORDER BY at DESC, path LIMIT ?'),
    countErrors: db.prepare('SELECT count(*) AS n FROM ingest_errors'),
  };
}
