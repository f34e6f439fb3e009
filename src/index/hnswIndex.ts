import { existsSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import hnswlib from 'hnswlib-node';
import type { VectorSource } from '../store/repository.js';
import type { Neighbour, VectorIndex } from './vectorIndex.js';

export type { VectorSource } from '../store/repository.js';

const { HierarchicalNSW } = hnswlib;
type Hnsw = InstanceType<typeof HierarchicalNSW>;

export interface HnswOptions {
  /** Graph degree: higher = better recall, more memory. */
  readonly m?: number;
  /** Build-time search breadth: higher = better graph, slower inserts. */
  readonly efConstruction?: number;
  /** Default query-time search breadth (raised to k when k is larger). */
  readonly efSearch?: number;
}

export const DEFAULT_HNSW_OPTIONS: Required<HnswOptions> = { m: 16, efConstruction: 200, efSearch: 100 };

/** What `reconcile` had to change to make the index hold exactly the source's vectors. */
export interface ReconcileReport {
  readonly added: number;
  readonly removed: number;
  /** True when the file was missing, unreadable, or too full of tombstones, and the index was rebuilt. */
  readonly rebuilt: boolean;
}

const INITIAL_CAPACITY = 1024;
/** Removed labels stay in an hnswlib graph as tombstones; past this share a rebuild compacts the graph. */
const MAX_TOMBSTONE_SHARE = 0.25;
const RECONCILE_CHUNK = 1000;

/**
 * hnswlib's HierarchicalNSW in cosine space (distance 1 − cos) behind the VectorIndex interface, persisted
 * to one file that is replaced atomically. Labels are the store's image ids.
 */
export class HnswIndex implements VectorIndex {
  private saving = false;

  private constructor(
    private readonly hnsw: Hnsw,
    readonly dim: number,
    readonly path: string,
    /** Live labels: hnswlib keeps removed ones as tombstones and offers no way to tell them apart cheaply. */
    private readonly live: Set<number>,
    private readonly efSearch: number,
  ) {}

  /** A new empty index that `save()` will write to `path`. */
  static create(path: string, dim: number, options: HnswOptions = {}): HnswIndex {
    const o = withDefaults(options);
    const hnsw = new HierarchicalNSW('cosine', dim);
    hnsw.initIndex({ maxElements: INITIAL_CAPACITY, m: o.m, efConstruction: o.efConstruction });
    return new HnswIndex(hnsw, dim, path, new Set(), o.efSearch);
  }

  /** Reads an index file written by `save()` (M and efConstruction come from the file). */
  static async open(path: string, dim: number, options: Pick<HnswOptions, 'efSearch'> = {}): Promise<HnswIndex> {
    const hnsw = new HierarchicalNSW('cosine', dim);
    await hnsw.readIndex(path);
    if (hnsw.getNumDimensions() !== dim) throw new Error(`${path} holds ${hnsw.getNumDimensions()}-d vectors, not ${dim}-d`);
    const live = new Set<number>();
    for (const label of hnsw.getIdsList()) {
      try {
        hnsw.getPoint(label); // throws for a tombstone
        live.add(label);
      } catch {
        // removed label: not live
      }
    }
    return new HnswIndex(hnsw, dim, path, live, withDefaults(options).efSearch);
  }

  /** A fresh index holding every vector of `source`. */
  static async rebuildFrom(source: VectorSource, path: string, dim: number, options: HnswOptions = {}): Promise<HnswIndex> {
    const index = HnswIndex.create(path, dim, options);
    index.reserve((await source.vectorIds()).length);
    await source.forEachVector((id, vector) => index.add(id, vector));
    return index;
  }

  /**
   * Opens the index at `path` and makes it agree with `source` (the source of truth): vectors missing from
   * the file are added, labels the source no longer has are removed. A missing or unreadable file, or one
   * mostly made of tombstones, is rebuilt from the source. Nothing is written: call `save()` to persist.
   */
  static async openReconciled(
    source: VectorSource,
    path: string,
    dim: number,
    options: HnswOptions = {},
  ): Promise<{ index: HnswIndex; report: ReconcileReport }> {
    const rebuild = async () => {
      const index = await HnswIndex.rebuildFrom(source, path, dim, options);
      // A new index (nothing stored yet) is not a repair.
      return { index, report: { added: index.size(), removed: 0, rebuilt: index.size() > 0 } };
    };
    if (!existsSync(path)) return rebuild();
    let index: HnswIndex;
    try {
      index = await HnswIndex.open(path, dim, options);
    } catch {
      return rebuild();
    }
    const report = await index.reconcile(source);
    if (index.tombstoneShare() > MAX_TOMBSTONE_SHARE) return rebuild();
    return { index, report };
  }

  /** Adds the source's vectors this index lacks and removes the labels the source does not have. */
  async reconcile(source: VectorSource): Promise<ReconcileReport> {
    const wanted = await source.vectorIds();
    const wantedSet = new Set(wanted);
    let removed = 0;
    for (const id of [...this.live]) {
      if (!wantedSet.has(id)) {
        this.remove(id);
        removed++;
      }
    }
    const missing = wanted.filter((id) => !this.live.has(id));
    this.reserve(missing.length);
    for (let i = 0; i < missing.length; i += RECONCILE_CHUNK) {
      for (const [id, vector] of await source.getVectors(missing.slice(i, i + RECONCILE_CHUNK))) this.add(id, vector);
    }
    return { added: missing.length, removed, rebuilt: false };
  }

  size(): number {
    return this.live.size;
  }

  has(id: number): boolean {
    return this.live.has(id);
  }

  /** Live labels, in no particular order. */
  ids(): number[] {
    return [...this.live];
  }

  add(id: number, vector: Float32Array): void {
    this.assertNotSaving();
    if (vector.length !== this.dim) throw new RangeError(`vector has ${vector.length} values, index is ${this.dim}-d`);
    this.reserve(1);
    // Re-adding a label (even a removed one) replaces its vector and makes it live again.
    this.hnsw.addPoint(Array.from(vector), id);
    this.live.add(id);
  }

  remove(id: number): void {
    this.assertNotSaving();
    if (!this.live.delete(id)) return;
    this.hnsw.markDelete(id);
  }

  search(vector: Float32Array, k: number, ef = this.efSearch): Neighbour[] {
    const count = Math.min(k, this.live.size);
    if (count <= 0) return [];
    this.hnsw.setEf(Math.max(ef, count));
    const { neighbors, distances } = this.hnsw.searchKnn(Array.from(vector), count);
    return neighbors.map((id, i) => ({ id, distance: distances[i] }));
  }

  /** Writes a temp file beside the target, fsyncs it, renames it over the target, and fsyncs the directory. */
  async save(): Promise<void> {
    this.assertNotSaving();
    this.saving = true;
    const dir = dirname(this.path);
    const temp = join(dir, `.${basename(this.path)}.${process.pid}.tmp`);
    try {
      await mkdir(dir, { recursive: true });
      await this.hnsw.writeIndex(temp);
      await fsyncPath(temp);
      await rename(temp, this.path);
      await fsyncPath(dir);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    } finally {
      this.saving = false;
    }
  }

  private tombstoneShare(): number {
    const total = this.hnsw.getCurrentCount();
    return total === 0 ? 0 : (total - this.live.size) / total;
  }

  /** Grows capacity (doubling) so that `extra` more points fit. */
  private reserve(extra: number): void {
    const needed = this.hnsw.getCurrentCount() + extra;
    let capacity = this.hnsw.getMaxElements();
    if (needed <= capacity) return;
    while (capacity < needed) capacity *= 2;
    this.hnsw.resizeIndex(capacity);
  }

  private assertNotSaving(): void {
    // hnswlib writes from a background thread: changing the graph meanwhile would write a torn file.
    if (this.saving) throw new Error('the HNSW index is being saved; wait for save() before changing it');
  }
}

function withDefaults(options: HnswOptions): Required<HnswOptions> {
  return {
    m: options.m ?? DEFAULT_HNSW_OPTIONS.m,
    efConstruction: options.efConstruction ?? DEFAULT_HNSW_OPTIONS.efConstruction,
    efSearch: options.efSearch ?? DEFAULT_HNSW_OPTIONS.efSearch,
  };
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
