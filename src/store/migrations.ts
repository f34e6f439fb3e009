import type Database from 'better-sqlite3';

/**
 * Schema migrations, applied in order; the database's `PRAGMA user_version` is the number applied so far.
 * Append new migrations, never edit a shipped one: an index built by an older version upgrades in place.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  -- AUTOINCREMENT: an id (= HNSW label) is never reused, so a stale HNSW label can never alias a new image.
  CREATE TABLE images (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    sha256 TEXT NOT NULL UNIQUE,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    format TEXT NOT NULL,
    mtime_ms REAL NOT NULL,
    added_at TEXT NOT NULL
  );
  -- Every path an image was found under, with the size and mtime that let a re-run skip it without hashing.
  CREATE TABLE paths (
    path TEXT PRIMARY KEY,
    image_id INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    size INTEGER NOT NULL,
    mtime_ms REAL NOT NULL
  );
  CREATE INDEX paths_by_image ON paths(image_id);
  -- Separate from images so exact scans read only vectors; an image without a row here awaits embedding.
  CREATE TABLE vectors (
    image_id INTEGER PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    vector BLOB NOT NULL
  );
  -- The latest failure per path; cleared when the path later ingests fine.
  CREATE TABLE ingest_errors (
    path TEXT PRIMARY KEY,
    reason TEXT NOT NULL,
    at TEXT NOT NULL
  );
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export function schemaVersionOf(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Brings the schema up to SCHEMA_VERSION, each migration in its own transaction. */
export function migrate(db: Database.Database): void {
  const current = schemaVersionOf(db);
  if (current > SCHEMA_VERSION) {
    throw new Error(`index schema version ${current} is newer than this program's (${SCHEMA_VERSION}): upgrade lipsearch`);
  }
  for (let version = current; version < SCHEMA_VERSION; version++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[version]);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
