/**
 * The backend-neutral store of an index, one interface per job: what the search side reads, and what an ingest
 * writes. Every method is asynchronous, so a network database (PostgreSQL) and the embedded SQLite file serve
 * the same callers. Implementations: src/store/sqliteRepository.ts and src/store/postgres/pgRepository.ts.
 */
import type { ImageRecord, IndexMeta, IngestErrorRecord } from './types.js';

/** What the ingest pipeline knows about an image before it gets an id. */
export interface NewImage {
  readonly sha256: string;
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  readonly format: string;
  readonly mtimeMs: number;
}

/** A known path and whether its image is complete (has a vector). */
export interface PathState {
  readonly imageId: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly embedded: boolean;
}

/** A known content and whether it is embedded. */
export interface ShaState {
  readonly imageId: number;
  readonly embedded: boolean;
}

/** An image that had no path left and was deleted. */
export interface RemovedImage {
  readonly id: number;
  readonly sha256: string;
}

/** All stored vectors packed row-major for exact scans: row i of `vectors` belongs to `ids[i]`. */
export interface PackedVectors {
  readonly ids: number[];
  readonly vectors: Float32Array;
  readonly dim: number;
}

/** Meta, vector count and (up to a limit) every vector, all read from one committed state. */
export interface StoredSnapshot {
  readonly meta: IndexMeta | undefined;
  readonly vectorCount: number;
  /** Present when vectorCount ≤ the limit asked for. */
  readonly packed: PackedVectors | undefined;
}

/** Where the vectors an ANN index is built or checked against come from (the store, the source of truth). */
export interface VectorSource {
  /** Ids that have a vector, ascending. */
  vectorIds(): Promise<number[]>;
  getVectors(ids: readonly number[]): Promise<Map<number, Float32Array>>;
  /** Every vector in id order, without holding them all in memory. */
  forEachVector(callback: (id: number, vector: Float32Array) => void): Promise<void>;
}

/** The read side: what the search server needs. */
export interface ImageReadRepository extends VectorSource {
  getMeta(): Promise<IndexMeta | undefined>;
  /** Images stored (with or without a vector). */
  count(): Promise<number>;
  getImage(id: number): Promise<ImageRecord | undefined>;
  /** The records of `ids` that exist, in the order given. */
  getImages(ids: readonly number[]): Promise<ImageRecord[]>;
  /** A page of images ordered by id. */
  listImages(offset: number, limit: number): Promise<ImageRecord[]>;
  findByPath(path: string): Promise<ImageRecord | undefined>;
  getVector(id: number): Promise<Float32Array | undefined>;
  /** Images that have a vector (the searchable ones). */
  vectorCount(): Promise<number>;
  /** Meta, count and, when there are at most `packLimit` vectors, all of them: one consistent read. */
  readSnapshot(packLimit: number): Promise<StoredSnapshot>;
  /** The most recent ingest errors first (`limit` < 0: all). */
  listErrors(limit: number): Promise<IngestErrorRecord[]>;
  countErrors(): Promise<number>;
  /** Cheap to read, and different after any write committed since the last read: tells a server to reload. */
  changeSignature(): Promise<string>;
  close(): Promise<void>;
}

/** One file of an ingest batch, as the batch commit records it. */
export type BatchEntry =
  | {
      readonly kind: 'failed';
      readonly path: string;
      readonly reason: string;
      /** The path was indexed: it no longer shows that image. */
      readonly forgetPath: boolean;
    }
  | {
      readonly kind: 'content';
      readonly path: string;
      /** The file's size and mtime, recorded with the path so that a re-run can skip it unread. */
      readonly size: number;
      readonly mtimeMs: number;
      /** The image as decoded; absent when the content was already embedded when the file was read. */
      readonly image?: NewImage;
      readonly sha256: string;
      /** The embedding, present with `image`. */
      readonly vector?: Float32Array;
    };

/** What committing a content entry did. */
export interface ContentOutcome {
  readonly imageId: number;
  /** The content was stored before this entry (under this or another path). */
  readonly existed: boolean;
  /** The entry's vector was stored (the content had none); the ANN index must add it. */
  readonly vectorStored: boolean;
}

/** What pinning asks the store to do, decided from the meta found (see ingestService's pinModel). */
export type PinChange =
  | { readonly kind: 'keep' }
  | { readonly kind: 'record'; readonly meta: Omit<IndexMeta, 'schemaVersion'>; readonly clear: 'none' | 'all' | { readonly fromSide: number } };

/** The write side: what an ingest does. Several ingests may write one PostgreSQL store at once. */
export interface ImageRepository extends ImageReadRepository {
  /**
   * Reads meta and the image count, asks `decide`, and applies its change in the same transaction, so that two
   * ingests never pin two models; `decide` throws to refuse (nothing is changed).
   */
  pinModel(decide: (meta: IndexMeta | undefined, images: number) => PinChange): Promise<void>;
  pathStates(paths: readonly string[]): Promise<Map<string, PathState>>;
  shaState(sha256: string): Promise<ShaState | undefined>;
  /**
   * Records a batch in one transaction: all of it lands or none. Content is addressed by sha256: an image
   * stored meanwhile (by another ingest) is reused, never duplicated. Returns one outcome per entry
   * (undefined for failed ones), in order.
   */
  commitBatch(entries: readonly BatchEntry[]): Promise<(ContentOutcome | undefined)[]>;
  recordError(path: string, reason: string): Promise<void>;
  /** Deletes the images no path points to any more (with their vectors) and returns them. */
  removeOrphans(): Promise<RemovedImage[]>;
  /** Every stored path (for pruning). */
  allPaths(): Promise<string[]>;
  /** Forgets paths and their errors, in one transaction (their images stay until removeOrphans). */
  forgetPaths(paths: readonly string[]): Promise<void>;
}
