import { createHash } from 'node:crypto';

/** An uploaded query image, kept so its results page can show it, re-run it (new ε, paging) and link to it. */
export interface CachedQuery {
  readonly sha256: string;
  readonly bytes: Buffer;
  /** Container format as sharp reported it (jpeg, png, ...). */
  readonly format: string;
  readonly width: number;
  readonly height: number;
  /** The model's embedding of the image and ‖R‖ of its resize (see preprocess.ts). */
  readonly embedding: Float32Array;
  readonly resizeNorm: number;
}

export interface QueryCacheLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

export const DEFAULT_QUERY_CACHE_LIMITS: QueryCacheLimits = { maxEntries: 256, maxBytes: 128 * 1024 * 1024 };

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A bounded, content-addressed, in-memory LRU of uploaded queries. Content addressing makes the same upload
 * twice one entry, and makes an entry's URL safe to cache forever; the bound keeps memory flat however many
 * images are uploaded (an evicted upload is simply uploaded again).
 */
export class QueryImageCache {
  private readonly entries = new Map<string, CachedQuery>();
  private bytes = 0;

  constructor(private readonly limits: QueryCacheLimits = DEFAULT_QUERY_CACHE_LIMITS) {}

  get(sha256: string): CachedQuery | undefined {
    const entry = this.entries.get(sha256);
    if (entry) {
      // Re-insert: Map iteration order is insertion order, so the first key is the least recently used.
      this.entries.delete(sha256);
      this.entries.set(sha256, entry);
    }
    return entry;
  }

  put(entry: CachedQuery): void {
    if (entry.bytes.length > this.limits.maxBytes) return;
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
    }
  }
}
