import type { HnswOptions, ReconcileReport } from '../index/hnswIndex.js';
import type { ImageRepository, RemovedImage } from '../store/repository.js';

export interface Thumbnail {
  readonly sha256: string;
  readonly webp: Uint8Array;
}

/**
 * Everything an ingest writes, for one backend: the repository, the ANN index kept beside it (if the backend
 * keeps one itself) and the thumbnails. The ingest pipeline is the same for every backend.
 */
export interface IngestTarget {
  /** For messages and the summary: the index folder, or the database URL without password. */
  readonly description: string;
  readonly repository: ImageRepository;
  /** Folders a walk must not ingest (the index's own files). */
  readonly ownFolders: readonly string[];
  /** Once the model is pinned: brings the ANN index in line with the stored vectors (a repair after a crash). */
  openVectorIndex(modelVersion: string, dim: number, options: HnswOptions): Promise<ReconcileReport>;
  /** Where a decode worker writes the thumbnail of `sha256`, or undefined to get its bytes for `putThumbnails`. */
  thumbnailFile(sha256: string): string | undefined;
  putThumbnails(thumbnails: readonly Thumbnail[]): Promise<void>;
  /** Vectors a batch commit stored. */
  vectorsStored(stored: readonly { readonly id: number; readonly vector: Float32Array }[]): void;
  /** Images deleted from the repository: out of the ANN index, their thumbnails removed. */
  imagesRemoved(removed: readonly RemovedImage[]): Promise<void>;
  /** Persists the ANN index (periodically during a long run, and when the run ends). */
  checkpoint(): Promise<void>;
  /** The last checkpoint, and files of other models (e.g. from before a --reindex) removed. */
  finish(): Promise<void>;
  close(): Promise<void>;
}
