import type { Embedder } from '../model/embedder.js';
import { type ExactScan, VectorMatrix, nearestRows } from '../search/vectorMatrix.js';
import type { ImageRecord } from '../store/types.js';

/** Images decoded and embedded per onnxruntime run. */
const BATCH = 8;

export interface BaselineCorpusProgress {
  readonly embedded: number;
  readonly total: number;
}

export interface BaselineMatrix {
  readonly matrix: VectorMatrix;
  /** Images whose original file could not be read (moved or changed since the ingest): not compared. */
  readonly unavailable: number;
}

/**
 * The corpus embedded with the non-robust baseline model, for the attack comparison. The index stores LipSim
 * vectors only, so these are computed on demand from the original files and kept in memory, keyed by content
 * (sha256) under this baseline version: after an ingest only the new images are embedded.
 *
 * Scaling: the first comparison decodes and embeds every image once (a few tens of ms each on one core: seconds
 * for this corpus, hours for millions), then holds N × dim × 4 bytes (1 KiB per image at dim 256). Beyond some
 * 10^5 images the vectors belong in a side table written by the ingest, keyed by the baseline's sha256.
 */
export class BaselineCorpus {
  private readonly vectors = new Map<string, Float32Array>();
  private embedding: Promise<void> = Promise.resolve();

  constructor(
    private readonly embedder: Embedder,
    /** The model input of a corpus image (decoded from its original file, as the ingest did). */
    private readonly loadInput: (record: ImageRecord) => Promise<Float32Array>,
  ) {}

  get version(): string {
    return this.embedder.card.version;
  }

  /**
   * The baseline vectors of `records` as a matrix (rows by image id), embedding those not seen yet.
   * Concurrent callers take turns, so an image is never embedded twice.
   */
  async matrix(records: readonly ImageRecord[], onProgress?: (progress: BaselineCorpusProgress) => void): Promise<BaselineMatrix> {
    const turn = this.embedding.then(() => this.embedMissing(records, onProgress));
    this.embedding = turn.then(
      () => undefined,
      () => undefined,
    );
    await turn;
    const present = records.filter((r) => this.vectors.has(r.sha256));
    const dim = this.embedder.dim;
    const packed = new Float32Array(present.length * dim);
    present.forEach((r, row) => packed.set(this.vectors.get(r.sha256)!, row * dim));
    const matrix = VectorMatrix.fromPacked({ ids: present.map((r) => r.id), vectors: packed, dim });
    return { matrix, unavailable: records.length - present.length };
  }

  async embed(pixels: Float32Array): Promise<Float32Array> {
    const [vector] = await this.embedder.embed([pixels]);
    return vector;
  }

  async close(): Promise<void> {
    await this.embedder.close();
  }

  /** Embeds what is missing (unreadable files are tried again next time); forgets images no longer in the corpus. */
  private async embedMissing(records: readonly ImageRecord[], onProgress?: (progress: BaselineCorpusProgress) => void): Promise<void> {
    const current = new Set(records.map((r) => r.sha256));
    for (const sha of this.vectors.keys()) if (!current.has(sha)) this.vectors.delete(sha);
    const missing = records.filter((r) => !this.vectors.has(r.sha256));
    for (let start = 0; start < missing.length; start += BATCH) {
      onProgress?.({ embedded: start, total: missing.length });
      const batch = missing.slice(start, start + BATCH);
      const inputs = await Promise.all(batch.map((r) => this.loadInput(r).catch(() => null)));
      const readable = batch.flatMap((r, i) => (inputs[i] ? [{ record: r, input: inputs[i] }] : []));
      const vectors = await this.embedder.embed(readable.map((r) => r.input));
      readable.forEach(({ record }, i) => this.vectors.set(record.sha256, vectors[i]));
    }
    onProgress?.({ embedded: missing.length, total: missing.length });
  }
}

/** The exact top-`count` of a baseline matrix for a query vector (the search engine's exact scan). */
export function rankExactly(matrix: VectorMatrix, query: Float32Array, count: number): ExactScan {
  return nearestRows(matrix, matrix.distancesTo(query), count);
}
