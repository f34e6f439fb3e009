import { createHash } from 'node:crypto';

/** An uploaded query image, kept so its results page can show it, re-run it (new ε, paging) and link to it. */
export interface CachedQuery {
  readonly sha256: string;
  readonly bytes: Buffer;
  /** Container format as sharp reported it (jpeg, png, ...). */
  readonly format: string;
  /** The photo's own size, oriented. */
  readonly width: number;
  readonly height: number;
  /** The size it was decoded at: its own, or reduced on load (preprocess.ts); image-pixel radii hold here. */
  readonly decoded: { readonly width: number; readonly height: number };
  /** The model's embedding of the image and ‖R‖ of its resize (see preprocess.ts). */
  readonly embedding: Float32Array;
  readonly resizeNorm: number;
  /** What decoding and embedding it took, reported again with each search from the cache. */
  readonly embedMs: number;
}

export interface QueryCacheLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
  /** Addresses of dropped uploads remembered (64 bytes each), to tell "no longer kept" from "never uploaded". */
  readonly rememberDropped: number;
}

export const DEFAULT_QUERY_CACHE_LIMITS: QueryCacheLimits = { maxEntries: 256, maxBytes: 128 * 1024 * 1024, rememberDropped: 16_384 };

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A bounded, content-addressed, in-memory LRU of uploaded queries. Content addressing makes the same upload
 * twice one entry, and makes an entry's URL safe to cache forever; the bound keeps memory flat however many
 * images are uploaded (an evicted upload is simply uploaded again). The addresses of dropped uploads are
 * remembered (bounded too), so a lookup can tell an upload that left the cache from one never made.
 */
export class QueryImageCache {
  private readonly entries = new Map<string, CachedQuery>();
  private readonly dropped = new Set<string>();
  private readonly limits: QueryCacheLimits;
  private bytes = 0;

  constructor(limits: Partial<QueryCacheLimits> = {}) {
    this.limits = { ...DEFAULT_QUERY_CACHE_LIMITS, ...limits };
  }

  get(sha256: string): CachedQuery | undefined {
    const entry = this.entries.get(sha256);
    if (entry) {
      // Re-insert: Map iteration order is insertion order, so the first key is the least recently used.
      this.entries.delete(sha256);
      this.entries.set(sha256, entry);
    }
    return entry;
  }

  /** True when `sha256` was uploaded and has since been dropped (as far as the bounded memory reaches). */
  wasDropped(sha256: string): boolean {
    return this.dropped.has(sha256);
  }

  put(entry: CachedQuery): void {
    if (entry.bytes.length > this.limits.maxBytes) return this.remember(entry.sha256);
    this.dropped.delete(entry.sha256);
    const previous = this.entries.get(entry.sha256);
    if (previous) {
      this.entries.delete(entry.sha256);
      this.bytes -= previous.bytes.length;
    }
    this.entries.set(entry.sha256, entry);
    this.bytes += entry.bytes.length;
    for (const [key, old] of this.entries) {
      if (this.entries.size <= this.limits.maxEntries && this.bytes <= this.limits.maxBytes) break;
      this.entries.delete(key);
      this.bytes -= old.bytes.length;
      this.remember(key);
    }
  }

  private remember(sha256: string): void {
    this.dropped.add(sha256);
    // A Set iterates in insertion order: the first entry is the oldest drop.
    if (this.dropped.size > this.limits.rememberDropped) this.dropped.delete(this.dropped.values().next().value!);
  }
}
