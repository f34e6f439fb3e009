import { availableParallelism } from 'node:os';
import { readFile, stat } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import type { IngestTarget, Thumbnail } from '../backend/ingestTarget.js';
import { indexLocation } from '../backend/location.js';
import { openIngestTarget } from '../backend/open.js';
import { defaultIndexDir } from '../config.js';
import type { HnswOptions, ReconcileReport } from '../index/hnswIndex.js';
import { defaultModelsDir, loadModelCard, type ModelCard } from '../model/card.js';
import { Embedder } from '../model/embedder.js';
import { DECODER, REDUCE_FROM } from '../model/preprocess.js';
import type { Device } from '../model/session.js';
import type { BatchEntry, ImageRepository, PathState, PinChange, RemovedImage } from '../store/repository.js';
import type { IndexMeta } from '../store/types.js';
import { BoundedQueue } from './boundedQueue.js';
import { BadImageError } from './badImage.js';
import { DecodePool, type Decoded } from './decodePool.js';
import { contentSha256, sameStamp } from './fileIdentity.js';
import { DEFAULT_INGEST_MAX_PIXELS } from './probe.js';
import type { ProgressEvent } from './progress.js';
import { type FoundFile, walkImages } from './walk.js';

export interface IngestOptions {
  /** Files and folders to ingest (recursively). */
  readonly paths: readonly string[];
  readonly indexDir?: string;
  /** A PostgreSQL URL: the index lives there instead of in indexDir (several ingests may write it at once). */
  readonly database?: string;
  /** Images per model run. */
  readonly batchSize?: number;
  readonly device?: Device;
  /** onnxruntime intra-op threads (default: onnxruntime's choice). */
  readonly threads?: number;
  /** Decode workers running beside inference. */
  readonly decoders?: number;
  /** Remove entries whose files are gone. */
  readonly prune?: boolean;
  /** Re-embed everything (required after the model changed). */
  readonly reindex?: boolean;
  readonly hnsw?: HnswOptions;
  /** How often the HNSW file is saved during a long run (it is always saved at the end). */
  readonly saveEverySeconds?: number;
  /** Larger images are refused (default DEFAULT_INGEST_MAX_PIXELS). */
  readonly maxPixels?: number;
  readonly modelsDir?: string;
  readonly onProgress?: (event: ProgressEvent) => void;
  /** Stops feeding new files; what is in flight is committed and the index saved (a graceful Ctrl-C). */
  readonly signal?: AbortSignal;
}

export interface FileFailure {
  readonly path: string;
  readonly reason: string;
}

export interface IngestSummary {
  /** The index folder, or the database URL without password. */
  readonly indexDir: string;
  readonly modelVersion: string;
  /** Where inference ran, or null when nothing needed the model. */
  readonly device: 'cpu' | 'cuda' | null;
  /** Image files found under the paths. */
  readonly found: number;
  /** Other files, skipped. */
  readonly skipped: number;
  /** New paths with new content. */
  readonly added: number;
  /** Known paths whose content changed. */
  readonly updated: number;
  /** Known paths with the same content (most skipped by size + mtime, without reading them). */
  readonly unchanged: number;
  /** New paths whose content was already indexed (stored once, path recorded). */
  readonly duplicates: number;
  /** Known paths re-embedded (after --reindex, or resuming an interrupted one). */
  readonly reembedded: number;
  readonly failed: number;
  readonly errors: readonly FileFailure[];
  /** Paths removed because their files are gone (--prune). */
  readonly pruned: number;
  /** Known paths under the given folders that were not found (not removed without --prune). */
  readonly missing: number;
  /** Images run through the model, and in how many model runs. */
  readonly embedded: number;
  readonly embedBatches: number;
  /** What opening the index had to repair in the HNSW file (after a crash). */
  readonly repaired: ReconcileReport;
  /** Images in the index afterwards, and those still waiting for a vector (not under the given paths). */
  readonly images: number;
  readonly awaitingEmbedding: number;
  readonly interrupted: boolean;
  readonly seconds: number;
  /** Files processed per second in the embedding phase (read, hash, decode, embed, commit). */
  readonly imagesPerSecond: number;
}

/** The index was embedded by another model: its vectors cannot be compared with this model's. */
export class ModelMismatchError extends Error {
  constructor(indexDir: string, indexed: { name: string; version: string }, current: ModelCard, images: number) {
    super(
      `the index at ${indexDir} was built with model "${indexed.name}" version ${indexed.version.slice(0, 12)}…, ` +
        `but the model now installed is version ${current.version.slice(0, 12)}…; vectors of different models ` +
        `cannot be compared. Re-run with --reindex to re-embed all ${images} images with the installed model, ` +
        'or reinstall the model the index was built with.',
    );
    this.name = 'ModelMismatchError';
  }
}

/** Larger files are refused unread: no image we take needs more, and reading one whole would hold it in memory. */
export const MAX_FILE_BYTES = 256 * 1024 * 1024;

export function defaultDecoders(): number {
  return Math.max(2, Math.min(8, availableParallelism() - 1));
}

interface WorkItem {
  readonly file: FoundFile;
  /** What the index knew of this path (undefined: a new path). */
  readonly known: PathState | undefined;
}

type Prepared =
  | { readonly kind: 'failed'; readonly item: WorkItem; readonly reason: string }
  /** `decoded` is absent when the content is (or, earlier in this run, will be) already embedded. */
  | { readonly kind: 'content'; readonly item: WorkItem; readonly sha256: string; readonly bytes: number; readonly decoded?: Decoded };

type Counter = 'added' | 'updated' | 'unchanged' | 'duplicates' | 'reembedded' | 'failed';

function describeReadError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'file vanished before it could be read';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a folder';
  return `cannot read file: ${code ?? (err as Error).message}`;
}

/**
 * Ingests image files into the index at `indexDir`: walk, skip what is unchanged, hash, decode (in worker
 * threads, overlapping inference), embed in batches, commit each batch to SQLite in one transaction, add to
 * HNSW, and save HNSW atomically (periodically and at the end). SQLite is the source of truth: a run killed
 * at any point is completed by the next one, which also repairs the HNSW file from SQLite.
 */
export async function ingest(options: IngestOptions): Promise<IngestSummary> {
  const started = Date.now();
  const batchSize = options.batchSize ?? 32;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) {
    throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
  }
  const location = indexLocation({ indexDir: resolve(options.indexDir ?? defaultIndexDir()), database: options.database });
  const card = loadModelCard('lipsim', options.modelsDir ?? defaultModelsDir());
  const target = await openIngestTarget(location);
  try {
    await pinModel(target.repository, target.description, card, options.reindex ?? false);
    const repaired = await target.openVectorIndex(card.version, card.embeddingDim, options.hnsw ?? {});
    return await new IngestRun(options, batchSize, target, repaired).run(started);
  } finally {
    await target.close();
  }
}

/** One ingest over an open, model-checked index (locked, for the embedded backend). */
class IngestRun {
  private readonly counts: Record<Counter, number> = { added: 0, updated: 0, unchanged: 0, duplicates: 0, reembedded: 0, failed: 0 };
  private readonly errors: FileFailure[] = [];
  private readonly progress: (event: ProgressEvent) => void;
  private embedder: Promise<Embedder> | undefined;
  private embedded = 0;
  private embedBatches = 0;
  private lastSave = Date.now();

  private readonly store: ImageRepository;

  constructor(
    private readonly options: IngestOptions,
    private readonly batchSize: number,
    private readonly target: IngestTarget,
    private readonly repaired: ReconcileReport,
  ) {
    this.progress = options.onProgress ?? (() => {});
    this.store = target.repository;
  }

  async run(started: number): Promise<IngestSummary> {
    try {
      // Persist a repair at once, and drop images an interrupted run left without paths.
      await this.forget(await this.store.removeOrphans());
      if (this.repaired.added || this.repaired.removed) await this.target.checkpoint();

      const walk = await walkImages(this.options.paths, this.target.ownFolders);
      for (const f of walk.failures) await this.fail(f.path, f.reason);
      const work: WorkItem[] = [];
      const knownPaths = await this.store.pathStates(walk.files.map((f) => f.path));
      for (const file of walk.files) {
        const known = knownPaths.get(file.path);
        // The incremental fast path: same path, size and mtime, already embedded: not even read.
        if (known?.embedded && sameStamp(known, file)) this.counts.unchanged++;
        else work.push({ file, known });
      }
      this.progress({ phase: 'scanning', done: walk.files.length, total: walk.files.length });

      const embedStarted = Date.now();
      const { processed, interrupted } = await this.process(work);
      const embedSeconds = (Date.now() - embedStarted) / 1000;

      const seen = new Set([...walk.files, ...walk.failures].map((f) => f.path));
      const { pruned, missing } = await this.prune(seen, this.options.paths.map((p) => resolve(p)));
      await this.forget(await this.store.removeOrphans());
      await this.target.finish();

      const images = await this.store.count();
      return {
        indexDir: this.target.description,
        modelVersion: (await this.store.getMeta())!.modelVersion,
        device: this.embedder ? (await this.embedder).device : null,
        found: walk.files.length,
        skipped: walk.skipped,
        ...this.counts,
        errors: this.errors,
        pruned,
        missing,
        embedded: this.embedded,
        embedBatches: this.embedBatches,
        repaired: this.repaired,
        images,
        awaitingEmbedding: images - (await this.store.vectorCount()),
        interrupted,
        seconds: (Date.now() - started) / 1000,
        imagesPerSecond: embedSeconds > 0 ? processed / embedSeconds : 0,
      };
    } finally {
      if (this.embedder) await (await this.embedder.catch(() => undefined))?.close();
    }
  }

  /**
   * The pipeline. Producer lanes read, hash and decode (decode pool) into a bounded queue of about two
   * batches; the consumer takes a batch, embeds it while the lanes keep decoding, and commits it.
   */
  private async process(work: readonly WorkItem[]): Promise<{ processed: number; interrupted: boolean }> {
    if (work.length === 0) return { processed: 0, interrupted: false };
    const pool = new DecodePool(this.options.decoders ?? defaultDecoders());
    const queue = new BoundedQueue<Prepared>(2 * this.batchSize);
    const firstOfContent = new Map<string, Promise<string | undefined>>();
    const signal = this.options.signal;
    this.progress({ phase: 'embedding', done: 0, total: work.length });
    let next = 0;
    let interrupted = false;
    let fatal: unknown;

    const lane = async () => {
      while (next < work.length && fatal === undefined) {
        if (signal?.aborted) {
          interrupted = true;
          return;
        }
        await this.feed(work[next++], pool, queue, firstOfContent);
      }
    };
    const lanes = Promise.all(Array.from({ length: 2 * pool.size }, lane)).then(
      () => queue.close(),
      (err) => {
        fatal ??= err;
        queue.abort(err instanceof Error ? err : new Error(String(err)));
      },
    );

    let processed = 0;
    try {
      for (let batch = await queue.take(this.batchSize); batch.length > 0; batch = await queue.take(this.batchSize)) {
        await this.commitBatch(batch);
        processed += batch.length;
        this.progress({ phase: 'embedding', done: processed, total: work.length });
        if (Date.now() - this.lastSave > (this.options.saveEverySeconds ?? 60) * 1000) await this.save();
      }
    } catch (err) {
      fatal ??= err;
      queue.abort(err instanceof Error ? err : new Error(String(err)));
    } finally {
      await lanes;
      await pool.close();
    }
    if (fatal !== undefined) throw fatal;
    return { processed, interrupted };
  }

  /** Reads, hashes and (for content not embedded yet) decodes one file, then queues it. */
  private async feed(
    item: WorkItem,
    pool: DecodePool,
    queue: BoundedQueue<Prepared>,
    firstOfContent: Map<string, Promise<string | undefined>>,
  ): Promise<void> {
    if (item.file.size > MAX_FILE_BYTES) {
      const mib = (n: number) => `${Math.round(n / 2 ** 20)} MiB`;
      return queue.push({ kind: 'failed', item, reason: `file is ${mib(item.file.size)}, over the ${mib(MAX_FILE_BYTES)} limit for one image` });
    }
    let bytes: Buffer;
    try {
      bytes = await readFile(item.file.path);
    } catch (err) {
      return queue.push({ kind: 'failed', item, reason: describeReadError(err) });
    }
    const sha256 = await contentSha256(bytes);
    const size = bytes.length;

    // A copy of content met earlier in this run is queued after that first copy (so it is committed after
    // it) and never decoded or embedded again.
    const first = firstOfContent.get(sha256);
    if (first) {
      const failure = await first;
      return queue.push(failure ? { kind: 'failed', item, reason: failure } : { kind: 'content', item, sha256, bytes: size });
    }
    let queued!: (failure: string | undefined) => void;
    firstOfContent.set(sha256, new Promise((r) => (queued = r)));
    let outcome = 'the first copy of this content was not processed';
    try {
      let prepared: Prepared;
      if ((await this.store.shaState(sha256))?.embedded) {
        prepared = { kind: 'content', item, sha256, bytes: size };
      } else {
        void this.model(); // start loading the model while the first images decode
        try {
          const decoded = await pool.decode(bytes, this.options.maxPixels ?? DEFAULT_INGEST_MAX_PIXELS, this.target.thumbnailFile(sha256));
          prepared = { kind: 'content', item, sha256, bytes: size, decoded };
        } catch (err) {
          if (!(err instanceof BadImageError)) throw err;
          prepared = { kind: 'failed', item, reason: err.message };
        }
      }
      await queue.push(prepared);
      outcome = prepared.kind === 'failed' ? prepared.reason : '';
    } finally {
      queued(outcome || undefined);
    }
  }

  /**
   * Embeds the batch's new content, then records the whole batch in one transaction, then updates the ANN index
   * and stores the thumbnails the workers handed back (a missing one is made on demand by the server).
   */
  private async commitBatch(batch: readonly Prepared[]): Promise<void> {
    const toEmbed = batch.filter((p): p is Prepared & { kind: 'content'; decoded: Decoded } => p.kind === 'content' && !!p.decoded);
    const vectors = new Map<Prepared, Float32Array>();
    if (toEmbed.length > 0) {
      const embeddings = await (await this.model()).embed(toEmbed.map((p) => p.decoded.pixels));
      toEmbed.forEach((p, i) => vectors.set(p, embeddings[i]));
      this.embedded += toEmbed.length;
      this.embedBatches++;
    }
    const outcomes = await this.store.commitBatch(batch.map((p) => batchEntry(p, vectors.get(p))));
    const stored: { id: number; vector: Float32Array }[] = [];
    batch.forEach((p, i) => {
      if (p.kind === 'failed') return this.countFailure(p.item.file.path, p.reason);
      const outcome = outcomes[i]!; // defined for every content entry
      const known = p.item.known;
      if (!known) this.counts[outcome.existed ? 'duplicates' : 'added']++;
      else if (known.imageId !== outcome.imageId) this.counts.updated++;
      else this.counts[known.embedded ? 'unchanged' : 'reembedded']++;
      if (outcome.vectorStored) stored.push({ id: outcome.imageId, vector: vectors.get(p)! });
    });
    this.target.vectorsStored(stored);
    const thumbnails = toEmbed.flatMap((p): Thumbnail[] => (p.decoded.thumbnail ? [{ sha256: p.sha256, webp: p.decoded.thumbnail }] : []));
    if (thumbnails.length > 0) await this.target.putThumbnails(thumbnails);
  }

  /**
   * Known paths not found by this walk. With --prune, those whose files are gone are removed (their images go
   * with their last path); without it, the ones under the given folders are counted as missing.
   */
  private async prune(seen: ReadonlySet<string>, roots: readonly string[]): Promise<{ pruned: number; missing: number }> {
    const unseen = (await this.store.allPaths()).filter((p) => !seen.has(p));
    if (!this.options.prune) {
      const underRoots = (p: string) => roots.some((r) => p === r || p.startsWith(r.endsWith(sep) ? r : r + sep));
      return { pruned: 0, missing: unseen.filter(underRoots).length };
    }
    // Errors of files that are gone go too (an indexed path never has an error row).
    const erroredUnseen = (await this.store.listErrors(-1)).map((e) => e.path).filter((p) => !seen.has(p));
    const candidates = [...unseen, ...erroredUnseen];
    const gone: string[] = [];
    for (let i = 0; i < candidates.length; i++) {
      if (await isGone(candidates[i])) gone.push(candidates[i]);
      this.progress({ phase: 'pruning', done: i + 1, total: candidates.length });
    }
    await this.store.forgetPaths(gone);
    const indexed = new Set(unseen);
    return { pruned: gone.filter((p) => indexed.has(p)).length, missing: 0 };
  }

  /** Images deleted from the store: out of the ANN index, and their thumbnails removed. */
  private forget(removed: readonly RemovedImage[]): Promise<void> {
    return this.target.imagesRemoved(removed);
  }

  /** A failure recorded in the store already (by a batch commit). */
  private countFailure(path: string, reason: string): void {
    this.counts.failed++;
    this.errors.push({ path, reason });
  }

  private async fail(path: string, reason: string): Promise<void> {
    this.countFailure(path, reason);
    await this.store.recordError(path, reason);
  }

  private async save(): Promise<void> {
    await this.target.checkpoint();
    this.lastSave = Date.now();
  }

  /** The model, opened on first need only: a run with nothing new never loads it. */
  private model(): Promise<Embedder> {
    if (!this.embedder) {
      this.embedder = Embedder.open({
        model: 'lipsim',
        device: this.options.device ?? 'auto',
        threads: this.options.threads,
        spinWait: false, // the decode workers share these cores
        modelsDir: this.options.modelsDir,
      });
      // Opened early on purpose; a failure surfaces where the consumer awaits it, not as an unhandled rejection.
      this.embedder.catch(() => {});
    }
    return this.embedder;
  }
}

function dimensions(decoded: Decoded): { width: number; height: number; format: string } {
  return { width: decoded.width, height: decoded.height, format: decoded.format };
}

async function isGone(path: string): Promise<boolean> {
  try {
    return !(await stat(path)).isFile();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR';
  }
}

/** The record of a content entry for the batch commit. */
function batchEntry(p: Prepared, vector: Float32Array | undefined): BatchEntry {
  const { path, size, mtimeMs } = p.item.file;
  if (p.kind === 'failed') return { kind: 'failed', path, reason: p.reason, forgetPath: p.item.known !== undefined };
  const image = p.decoded && { sha256: p.sha256, ...dimensions(p.decoded), bytes: p.bytes, mtimeMs };
  return { kind: 'content', path, size, mtimeMs, sha256: p.sha256, image, vector };
}

/**
 * Pins the index to the installed model and decoder. A new index records them; another model is refused unless
 * `reindex`, which drops every vector (one transaction) so that the run, or any later one if it is
 * interrupted, re-embeds every image. An index from before reduced decoding (decoder null) drops the vectors
 * of the photos that are now decoded reduced, which this run re-embeds: vectors of two decodings never mix.
 */
function pinModel(store: ImageRepository, location: string, card: ModelCard, reindex: boolean): Promise<void> {
  const current = { modelName: card.name, modelVersion: card.version, dim: card.embeddingDim, space: 'cosine' as const, decoder: DECODER };
  return store.pinModel((meta: IndexMeta | undefined, images: number): PinChange => {
    if (!meta) return { kind: 'record', meta: current, clear: 'none' };
    if (reindex) return { kind: 'record', meta: current, clear: 'all' };
    if (meta.modelVersion !== card.version) {
      throw new ModelMismatchError(location, { name: meta.modelName, version: meta.modelVersion }, card, images);
    }
    if (meta.decoder !== DECODER) return { kind: 'record', meta: current, clear: { fromSide: REDUCE_FROM } };
    return { kind: 'keep' };
  });
}
