import { existsSync } from 'node:fs';
import { EmbeddedSearchBackend } from '../backend/embedded.js';
import type { IngestTarget, Thumbnail } from '../backend/ingestTarget.js';
import type { IndexLocation } from '../backend/location.js';
import { openIngestTarget } from '../backend/open.js';
import type { HnswOptions } from '../index/hnswIndex.js';
import { indexLayout } from '../store/indexLayout.js';
import type { BatchEntry } from '../store/repository.js';
import type { IndexMeta } from '../store/types.js';

/** Images per batch commit. */
const PAGE = 128;

export interface CopySummary {
  readonly from: string;
  readonly to: string;
  readonly modelVersion: string;
  /** Images copied with their vectors, and the paths they are known under. */
  readonly images: number;
  readonly paths: number;
  /** Images of the source still awaiting a vector: not copied (an ingest of their folders embeds them). */
  readonly notEmbedded: number;
  readonly errors: number;
  readonly seconds: number;
}

/** An index that cannot be copied: one line for the user. */
export class CopyError extends Error {
  override name = 'CopyError';
}

/** The source and the target were embedded by different models (or decoders): their vectors do not mix. */
export class CopyModelMismatchError extends CopyError {
  constructor(from: string, source: IndexMeta, to: string, target: IndexMeta) {
    super(
      `the index at ${from} was built with model ${source.modelVersion.slice(0, 12)}… (decoder ${source.decoder ?? 'full-size'}), ` +
        `but ${to} holds vectors of model ${target.modelVersion.slice(0, 12)}… (decoder ${target.decoder ?? 'full-size'}): ` +
        'vectors of different models or decodings cannot be mixed',
    );
  }
}

/**
 * Copies an embedded index (the folder's SQLite store and thumbnails) into another location, typically a
 * PostgreSQL database: images, paths, vectors and ingest errors, without decoding or embedding anything. The
 * target is pinned to the source's model; content it already holds is reused, as in any ingest.
 */
export async function copyIndex(fromDir: string, to: IndexLocation, hnsw: HnswOptions = {}): Promise<CopySummary> {
  const started = Date.now();
  if (!existsSync(indexLayout(fromDir).database)) throw new CopyError(`no index in ${fromDir} to copy`);
  const source = EmbeddedSearchBackend.open(fromDir)!;
  try {
    const meta = await source.repository.getMeta();
    if (!meta) throw new CopyError(`the index at ${fromDir} has no model pinned yet: nothing to copy`);
    const target = await openIngestTarget(to);
    try {
      await target.repository.pinModel((found) => {
        if (!found) return { kind: 'record', meta, clear: 'none' };
        if (found.modelVersion !== meta.modelVersion || found.decoder !== meta.decoder) {
          throw new CopyModelMismatchError(fromDir, meta, target.description, found);
        }
        return { kind: 'keep' };
      });
      await target.openVectorIndex(meta.modelVersion, meta.dim, hnsw);
      const counts = await copyImages(source, target);
      const errors = await source.repository.listErrors(-1);
      for (const e of errors) await target.repository.recordError(e.path, e.reason);
      await target.finish();
      return {
        from: fromDir,
        to: target.description,
        modelVersion: meta.modelVersion,
        ...counts,
        errors: errors.length,
        seconds: (Date.now() - started) / 1000,
      };
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}

async function copyImages(
  source: EmbeddedSearchBackend,
  target: IngestTarget,
): Promise<{ images: number; paths: number; notEmbedded: number }> {
  let images = 0;
  let paths = 0;
  let notEmbedded = 0;
  for (let offset = 0; ; offset += PAGE) {
    const records = await source.repository.listImages(offset, PAGE);
    if (records.length === 0) return { images, paths, notEmbedded };
    const vectors = await source.repository.getVectors(records.map((r) => r.id));
    // The per-path size and mtime, kept so that a later ingest of the same folders skips the files unread.
    const states = await source.repository.pathStates(records.flatMap((r) => r.paths));
    const entries: BatchEntry[] = [];
    const thumbnails: Thumbnail[] = [];
    const fresh: Float32Array[] = [];
    for (const record of records) {
      const vector = vectors.get(record.id);
      if (!vector) {
        notEmbedded++;
        continue;
      }
      images++;
      const { sha256, width, height, bytes, format, mtimeMs } = record;
      for (const path of record.paths) {
        const state = states.get(path)!;
        entries.push({ kind: 'content', path, size: state.size, mtimeMs: state.mtimeMs, sha256, image: { sha256, width, height, bytes, format, mtimeMs }, vector });
        fresh.push(vector);
        paths++;
      }
      const webp = await source.thumbnail(sha256);
      if (webp) thumbnails.push({ sha256, webp });
    }
    const outcomes = await target.repository.commitBatch(entries);
    target.vectorsStored(outcomes.flatMap((o, i) => (o?.vectorStored ? [{ id: o.imageId, vector: fresh[i] }] : [])));
    if (thumbnails.length > 0) await target.putThumbnails(thumbnails);
  }
}
