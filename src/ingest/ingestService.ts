import { availableParallelism } from 'node:os';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { defaultIndexDir } from '../config.js';
import { HnswIndex, type HnswOptions, type ReconcileReport } from '../index/hnswIndex.js';
import { defaultModelsDir, loadModelCard, type ModelCard } from '../model/card.js';
import { Embedder } from '../model/embedder.js';
import { DECODER, REDUCE_FROM } from '../model/preprocess.js';
import type { Device } from '../model/session.js';
import { ImageStore, type PathState, type RemovedImage } from '../store/imageStore.js';
import { hnswPath, indexLayout, isHnswFileName, thumbnailPath } from '../store/indexLayout.js';
import { BoundedQueue } from './boundedQueue.js';
import { BadImageError } from './badImage.js';
import { DecodePool, type Decoded } from './decodePool.js';
import { contentSha256, sameStamp } from './fileIdentity.js';
import { acquireWriterLock } from './lock.js';
import { DEFAULT_INGEST_MAX_PIXELS } from './probe.js';
import type { ProgressEvent } from './progress.js';
import { type FoundFile, walkImages } from './walk.js';

export interface IngestOptions {
  /** Files and folders to ingest (recursively). */
  readonly paths: readonly string[];
  readonly indexDir?: string;
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
  const dir = resolve(options.indexDir ?? defaultIndexDir());
  const card = loadModelCard('lipsim', options.modelsDir ?? defaultModelsDir());
  const lock = acquireWriterLock(indexLayout(dir).writerLock);
  try {
    await removeTempFiles(dir);
    const store = ImageStore.open(dir);
    try {
      pinModel(store, dir, card, options.reindex ?? false);
      const { index, report } = await HnswIndex.openReconciled(
        store,
        hnswPath(dir, card.version),
        card.embeddingDim,
        options.hnsw,
      );
      return await new IngestRun(options, dir, batchSize, store, index, report).run(started);
    } finally {
      store.close();
    }
  } finally {
    lock.release();
  }
}

/** One ingest over an open, locked, model-checked index. */
class IngestRun {
  private readonly counts: Record<Counter, number> = { added: 0, updated: 0, unchanged: 0, duplicates: 0, reembedded: 0, failed: 0 };
  private readonly errors: FileFailure[] = [];
  private readonly progress: (event: ProgressEvent) => void;
  private embedder: Promise<Embedder> | undefined;
  private embedded = 0;
  private embedBatches = 0;
  private lastSave = Date.now();

  constructor(
    private readonly options: IngestOptions,
    private readonly dir: string,
    private readonly batchSize: number,
    private readonly store: ImageStore,
    private readonly index: HnswIndex,
    private readonly repaired: ReconcileReport,
  ) {
    this.progress = options.onProgress ?? (() => {});
  }

  async run(started: number): Promise<IngestSummary> {
    try {
      // Persist a repair at once, and drop images an interrupted run left without paths.
      await this.forget(this.store.removeOrphans());
      if (this.repaired.added || this.repaired.removed) await this.index.save();

      const walk = await walkImages(this.options.paths, [this.dir]);
      for (const f of walk.failures) this.fail(f.path, f.reason);
      const work: WorkItem[] = [];
      for (const file of walk.files) {
        const known = this.store.pathState(file.path);
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
      await this.forget(this.store.removeOrphans());

      await this.index.save();
      await removeOtherModelFiles(this.dir, this.index.path);

      const images = this.store.count();
      return {
        indexDir: this.dir,
        modelVersion: this.store.getMeta()!.modelVersion,
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
        awaitingEmbedding: images - this.store.vectorCount(),
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
      if (this.store.shaState(sha256)?.embedded) {
        prepared = { kind: 'content', item, sha256, bytes: size };
      } else {
        void this.model(); // start loading the model while the first images decode
        try {
          const decoded = await pool.decode(bytes, this.options.maxPixels ?? DEFAULT_INGEST_MAX_PIXELS, thumbnailPath(this.dir, sha256));
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

  /** Embeds the batch's new content, then records the whole batch in one transaction, then updates HNSW. */
  private async commitBatch(batch: readonly Prepared[]): Promise<void> {
    const toEmbed = batch.filter((p): p is Prepared & { kind: 'content'; decoded: Decoded } => p.kind === 'content' && !!p.decoded);
    const vectors = new Map<Prepared, Float32Array>();
    if (toEmbed.length > 0) {
      const embeddings = await (await this.model()).embed(toEmbed.map((p) => p.decoded.pixels));
      toEmbed.forEach((p, i) => vectors.set(p, embeddings[i]));
      this.embedded += toEmbed.length;
      this.embedBatches++;
    }
    const fresh = this.store.transaction(() =>
      batch.flatMap((p) => {
        const added = this.commitOne(p, vectors.get(p));
        return added ? [added] : [];
      }),
    );
    for (const { id, vector } of fresh) this.index.add(id, vector);
  }

  /** Records one file; returns the vector to add to HNSW if its content got one. */
  private commitOne(p: Prepared, vector: Float32Array | undefined): { id: number; vector: Float32Array } | undefined {
    const { path, size, mtimeMs } = p.item.file;
    const known = p.item.known;
    if (p.kind === 'failed') {
      this.fail(path, p.reason);
      // The path no longer shows the image it was indexed with.
      if (known) this.store.removePath(path);
      return undefined;
    }
    const state = this.store.shaState(p.sha256);
    let id: number;
    let fresh: { id: number; vector: Float32Array } | undefined;
    if (!state?.embedded) {
      if (!vector || !p.decoded) throw new Error(`internal error: ${path} reached the store without a vector`);
      id = state?.imageId ?? this.store.insertImage({ sha256: p.sha256, ...dimensions(p.decoded), bytes: p.bytes, mtimeMs });
      this.store.setVector(id, vector);
      fresh = { id, vector };
    } else {
      id = state.imageId; // a copy: the vector (if one was computed meanwhile) is not needed
    }
    this.store.putPath(path, id, size, mtimeMs);
    this.store.clearError(path);
    if (!known) this.counts[state ? 'duplicates' : 'added']++;
    else if (known.imageId !== id) this.counts.updated++;
    else this.counts[known.embedded ? 'unchanged' : 'reembedded']++;
    return fresh;
  }

  /**
   * Known paths not found by this walk. With --prune, those whose files are gone are removed (their images go
   * with their last path); without it, the ones under the given folders are counted as missing.
   */
  private async prune(seen: ReadonlySet<string>, roots: readonly string[]): Promise<{ pruned: number; missing: number }> {
    const unseen = this.store.allPaths().filter((p) => !seen.has(p));
    if (!this.options.prune) {
      const underRoots = (p: string) => roots.some((r) => p === r || p.startsWith(r.endsWith(sep) ? r : r + sep));
      return { pruned: 0, missing: unseen.filter(underRoots).length };
    }
    // Errors of files that are gone go too (an indexed path never has an error row).
    const erroredUnseen = this.store.listErrors(-1).map((e) => e.path).filter((p) => !seen.has(p));
    const candidates = [...unseen, ...erroredUnseen];
    const gone: string[] = [];
    for (let i = 0; i < candidates.length; i++) {
      if (await isGone(candidates[i])) gone.push(candidates[i]);
      this.progress({ phase: 'pruning', done: i + 1, total: candidates.length });
    }
    this.store.transaction(() => {
      for (const path of gone) {
        this.store.removePath(path);
        this.store.clearError(path);
      }
    });
    const indexed = new Set(unseen);
    return { pruned: gone.filter((p) => indexed.has(p)).length, missing: 0 };
  }

  /** Images deleted from the store: out of HNSW, and their thumbnails removed (before the same content can return). */
  private async forget(removed: readonly RemovedImage[]): Promise<void> {
    for (const image of removed) this.index.remove(image.id);
    await Promise.all(removed.map((image) => rm(thumbnailPath(this.dir, image.sha256), { force: true })));
  }

  private fail(path: string, reason: string): void {
    this.counts.failed++;
    this.errors.push({ path, reason });
    this.store.recordError(path, reason);
  }

  private async save(): Promise<void> {
    await this.index.save();
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

/**
 * Pins the index to the installed model and decoder. A new index records them; another model is refused unless
 * `reindex`, which drops every vector (one transaction) so that the run, or any later one if it is
 * interrupted, re-embeds every image. An index from before reduced decoding (decoder null) drops the vectors
 * of the photos that are now decoded reduced, which this run re-embeds: vectors of two decodings never mix.
 */
function pinModel(store: ImageStore, dir: string, card: ModelCard, reindex: boolean): void {
  const meta = store.getMeta();
  const current = { modelName: card.name, modelVersion: card.version, dim: card.embeddingDim, space: 'cosine' as const, decoder: DECODER };
  if (!meta) return store.setMeta(current);
  if (!reindex) {
    if (meta.modelVersion !== card.version) {
      throw new ModelMismatchError(dir, { name: meta.modelName, version: meta.modelVersion }, card, store.count());
    }
    if (meta.decoder !== DECODER) {
      store.transaction(() => {
        store.clearVectorsOfImagesFrom(REDUCE_FROM);
        store.setMeta(current);
      });
    }
    return;
  }
  store.transaction(() => {
    store.clearVectors();
    store.setMeta(current);
  });
}

/** Temp files of writes a crash interrupted (HNSW saves, thumbnails). Only the lock holder calls this. */
async function removeTempFiles(dir: string): Promise<void> {
  for (const folder of [dir, indexLayout(dir).thumbnails]) {
    const names = await readdir(folder).catch(() => [] as string[]);
    await Promise.all(names.filter((n) => n.endsWith('.tmp')).map((n) => rm(join(folder, n), { force: true })));
  }
}

/** HNSW files of other models (e.g. from before a --reindex): never read again. */
async function removeOtherModelFiles(dir: string, keep: string): Promise<void> {
  const names = await readdir(dir);
  await Promise.all(
    names.filter((n) => isHnswFileName(n) && join(dir, n) !== keep).map((n) => rm(join(dir, n), { force: true })),
  );
}
