/** What the store (src/store, either backend) records of each image. `id` is also the vector index label. */
export interface ImageRecord {
  readonly id: number;
  readonly sha256: string;
  /** Every path the same content was found under (absolute), first-seen first. */
  readonly paths: readonly string[];
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
  readonly format: string;
  readonly mtimeMs: number;
  readonly addedAt: string; // ISO 8601
}

export interface IngestErrorRecord {
  readonly path: string;
  readonly reason: string;
  readonly at: string; // ISO 8601
}

/** Index-wide metadata: an index is pinned to the model that embedded it. */
export interface IndexMeta {
  readonly modelName: string;
  readonly modelVersion: string; // sha256 of the embedding ONNX
  readonly dim: number;
  readonly space: 'cosine';
  /**
   * How images were decoded for the model (preprocess.ts DECODER); null for indexes older than the record, which
   * decoded every photo at its full size.
   */
  readonly decoder: string | null;
  readonly schemaVersion: number;
}
