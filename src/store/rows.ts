import type { ImageRecord, IndexMeta } from './types.js';

// How records map to table rows, the same in both backends (SQLite and PostgreSQL share the schema's shape).

/** A row of `images` (PostgreSQL returns its bigint columns as strings). */
export interface ImageRow {
  id: number | string;
  sha256: string;
  width: number;
  height: number;
  bytes: number | string;
  format: string;
  mtime_ms: number;
  added_at: string;
}

export function imageRecord(row: ImageRow, paths: string[]): ImageRecord {
  return {
    id: Number(row.id),
    sha256: row.sha256,
    paths,
    width: row.width,
    height: row.height,
    bytes: Number(row.bytes),
    format: row.format,
    mtimeMs: row.mtime_ms,
    addedAt: row.added_at,
  };
}

/** An index's meta is a key/value table. */
const META_KEYS = { modelName: 'model_name', modelVersion: 'model_version', dim: 'dim', space: 'space', decoder: 'decoder' } as const;

/** The rows that record `meta` (no decoder row for an index older than the record). */
export function metaEntries(meta: Omit<IndexMeta, 'schemaVersion'>): [string, string][] {
  return [
    [META_KEYS.modelName, meta.modelName],
    [META_KEYS.modelVersion, meta.modelVersion],
    [META_KEYS.dim, String(meta.dim)],
    [META_KEYS.space, meta.space],
    ...(meta.decoder !== null ? [[META_KEYS.decoder, meta.decoder] as [string, string]] : []),
  ];
}

/** The meta those rows record, or undefined before a model was pinned. */
export function metaFromEntries(values: ReadonlyMap<string, string>, schemaVersion: number): IndexMeta | undefined {
  const modelVersion = values.get(META_KEYS.modelVersion);
  if (modelVersion === undefined) return undefined;
  return {
    modelName: values.get(META_KEYS.modelName) ?? '',
    modelVersion,
    dim: Number(values.get(META_KEYS.dim)),
    space: 'cosine',
    decoder: values.get(META_KEYS.decoder) ?? null,
    schemaVersion,
  };
}
