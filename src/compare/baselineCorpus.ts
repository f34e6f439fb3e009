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
 * Scaling: every image is decoded and embedded once (a few tens of ms each on one core: seconds for this corpus,
 * hours for millions), at server start for small corpora (ComparisonService.prepareBaseline), else on the
 * first comparison; then it holds N × dim × 4 bytes (1 KiB per image at dim 256). Beyond some 10^5 images the
 * vectors belong in a side table written by the ingest, keyed by the baseline's sha256.
 */
export class BaselineCorpus {
  private readonly vectors = new Map<string, Float32Array>();
  private embedding: Promise<void> = Promise.resolve();
  /** The embedding under way, if any: callers waiting for their turn are shown its progress. */
  private current: BaselineCorpusProgress | null = null;
  private readonly listeners = new Set<(progress: BaselineCorpusProgress) => void>();
  private closed = false;

  constructor(
    private readonly embedder: Embedder,
    /** The model input of a corpus image (decoded from its original file, as the ingest did). */
    private readonly loadInput: (record: ImageRecord) => Promise<Float32Array>,
  ) {}

  get version(): string {
    return this.embedder.card.version;
  }

  /** Progress of the embedding under way; null when none is. */
  get progress(): BaselineCorpusProgress | null {
    return this.current;
  }

  /** Images embedded so far. */
  get size(): number {
    return this.vectors.size;
  }

  /**
   * The baseline vectors of `records` as a matrix (rows by image id), embedding those not seen yet.
   * Concurrent callers take turns, so an image is never embedded twice; `onProgress` also follows the
   * embedding a caller waits behind (e.g. the one started with the server).
   */
  async matrix(records: readonly ImageRecord[], onProgress?: (progress: BaselineCorpusProgress) => void): Promise<BaselineMatrix> {
    if (onProgress) {
      this.listeners.add(onProgress);
      if (this.current) onProgress(this.current);
    }
    try {
      const turn = this.embedding.then(() => this.embedMissing(records));
      this.embedding = turn.then(
        () => undefined,
        () => undefined,
      );
      await turn;
    } finally {
      if (onProgress) this.listeners.delete(onProgress);
    }
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

  /** Stops an embedding under way after its current batch, then releases the model. */
  async close(): Promise<void> {
    this.closed = true;
    await this.embedding;
    await this.embedder.close();
  }

  /** Embeds what is missing (unreadable files are tried again next time); forgets images no longer in the corpus. */
  private async embedMissing(records: readonly ImageRecord[]): Promise<void> {
    const current = new Set(records.map((r) => r.sha256));
    for (const sha of this.vectors.keys()) if (!current.has(sha)) this.vectors.delete(sha);
    const missing = records.filter((r) => !this.vectors.has(r.sha256));
    if (missing.length === 0) return;
    try {
      for (let start = 0; start < missing.length && !this.closed; start += BATCH) {
        this.report({ embedded: start, total: missing.length });
        const batch = missing.slice(start, start + BATCH);
        const inputs = await Promise.all(batch.map((r) => this.loadInput(r).catch(() => null)));
        const readable = batch.flatMap((r, i) => (inputs[i] ? [{ record: r, input: inputs[i] }] : []));
        const vectors = await this.embedder.embed(readable.map((r) => r.input));
        readable.forEach(({ record }, i) => this.vectors.set(record.sha256, vectors[i]));
      }
      if (!this.closed) this.report({ embedded: missing.length, total: missing.length });
    } finally {
      this.current = null;
    }
  }

  private report(progress: BaselineCorpusProgress): void {
    this.current = progress;
    for (const listener of this.listeners) listener(progress);
  }
}

/** The exact top-`count` of a baseline matrix for a query vector (the search engine's exact scan). */
export function rankExactly(matrix: VectorMatrix, query: Float32Array, count: number): ExactScan {
  return nearestRows(matrix, matrix.distancesTo(query), count);
}
