import type { Neighbour } from '../index/vectorIndex.js';
import type { ImageReadRepository, VectorSource } from '../store/repository.js';
import type { IndexMeta } from '../store/types.js';

/** Approximate nearest neighbours as the search engine asks for them (re-rank exactly before use). */
export interface NeighbourSearch {
  /** Vectors it searches. */
  size(): number;
  /** Up to k approximate nearest neighbours, closest first; `ef` is the search breadth (≥ k). */
  search(vector: Float32Array, k: number, ef: number): Promise<Neighbour[]>;
}

/** The read side of one backend, as a long-running server uses it. */
export interface SearchBackend {
  /** For messages: the index folder, or the database URL without password. */
  readonly description: string;
  readonly repository: ImageReadRepository;
  /** Changes whenever something the server loaded changed (a commit, a saved ANN index). */
  signature(meta: IndexMeta | undefined): Promise<string>;
  /**
   * The ANN index over the vectors of `source` (the snapshot's own vectors when it holds them all, so the
   * graph agrees with exactly those), or over the repository as it is now.
   */
  neighbourSearch(meta: IndexMeta, vectorCount: number, source: VectorSource | undefined): Promise<NeighbourSearch>;
  /** The stored WebP thumbnail of a content, if the ingest made one. */
  thumbnail(sha256: string): Promise<Buffer | undefined>;
  close(): Promise<void>;
}
