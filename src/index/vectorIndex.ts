/**
 * The approximate-nearest-neighbour index over unit vectors that the embedded backend keeps beside its store
 * (hnswlib). Ids are the store's image ids (the store is the source of truth: an index can always be rebuilt
 * from the stored vectors). The search side asks any backend's ANN index, this one or pgvector's, through
 * NeighbourSearch (src/backend/searchBackend.ts).
 */
export interface Neighbour {
  readonly id: number;
  /** Cosine distance d = 1 − ⟨a, b⟩ of unit vectors, as the index computed it (re-rank exactly before use). */
  readonly distance: number;
}

export interface VectorIndex {
  readonly dim: number;
  /** Number of live (not removed) vectors. */
  size(): number;
  has(id: number): boolean;
  /** Adds or replaces the vector of `id`. */
  add(id: number, vector: Float32Array): void;
  remove(id: number): void;
  /** Up to k approximate nearest neighbours, closest first; `ef` is the search breadth (≥ k). */
  search(vector: Float32Array, k: number, ef?: number): Neighbour[];
  /** Persists atomically (temp file + rename): a crash leaves the previous or the new file, never half of one. */
  save(): Promise<void>;
}
