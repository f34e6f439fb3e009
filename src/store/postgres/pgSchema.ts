import type pg from 'pg';

/**
 * PostgreSQL schema migrations, applied in order; `lipsearch_schema.version` is the number applied so far.
 * Append new migrations, never edit a shipped one. The vectors' column gets its dimension (and its HNSW index)
 * when an ingest pins the model: see PostgresIngestTarget.openVectorIndex.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
  -- An identity is never reused (a rolled-back insert burns its value), like SQLite's AUTOINCREMENT.
  CREATE TABLE images (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sha256 text NOT NULL UNIQUE,
    width integer NOT NULL,
    height integer NOT NULL,
    bytes bigint NOT NULL,
    format text NOT NULL,
    mtime_ms double precision NOT NULL,
    added_at text NOT NULL
  );
  -- first_seen orders an image's paths as SQLite's rowid does (an upsert keeps it).
  CREATE TABLE paths (
    path text PRIMARY KEY,
    image_id bigint NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    size bigint NOT NULL,
    mtime_ms double precision NOT NULL,
    first_seen bigint GENERATED ALWAYS AS IDENTITY
  );
  CREATE INDEX paths_by_image ON paths(image_id);
  CREATE TABLE vectors (
    image_id bigint PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    embedding vector NOT NULL
  );
  CREATE TABLE ingest_errors (path text PRIMARY KEY, reason text NOT NULL, at text NOT NULL);
  -- Keyed by content: a thumbnail goes with the last image of its content.
  CREATE TABLE thumbnails (
    sha256 text PRIMARY KEY REFERENCES images(sha256) ON DELETE CASCADE,
    webp bytea NOT NULL
  );
  -- Bumped by every write transaction as its last statement: a server compares it to see new rows.
  CREATE TABLE change_counter (n bigint NOT NULL);
  INSERT INTO change_counter VALUES (0);
  `,
];

export const PG_SCHEMA_VERSION = MIGRATIONS.length;

/** Advisory lock keys (arbitrary constants) serialising schema changes and model pinning across processes. */
export const SCHEMA_LOCK = 0x6c697073; // 'lips'
export const PIN_LOCK = 0x6c697074;

/** The schema version, or 0 when lipsearch never ran on this database. */
export async function pgSchemaVersion(client: pg.ClientBase): Promise<number> {
  const { rows } = await client.query(`SELECT to_regclass('lipsearch_schema') IS NOT NULL AS present`);
  if (!rows[0].present) return 0;
  const version = await client.query('SELECT version FROM lipsearch_schema');
  return Number(version.rows[0]?.version ?? 0);
}

/** Brings the schema up to PG_SCHEMA_VERSION in one transaction, under a lock so two ingests never both migrate. */
export async function migratePg(client: pg.ClientBase): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [SCHEMA_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS lipsearch_schema (version integer NOT NULL)');
    const current = await pgSchemaVersion(client);
    if (current > PG_SCHEMA_VERSION) {
      throw new SchemaVersionError(`database schema version ${current} is newer than this program's (${PG_SCHEMA_VERSION}): upgrade lipsearch`);
    }
    for (let version = current; version < PG_SCHEMA_VERSION; version++) await client.query(MIGRATIONS[version]);
    if (current === 0) await client.query('INSERT INTO lipsearch_schema VALUES ($1)', [PG_SCHEMA_VERSION]);
    else if (current < PG_SCHEMA_VERSION) await client.query('UPDATE lipsearch_schema SET version = $1', [PG_SCHEMA_VERSION]);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK');
    throw err;
  }
}

export class SchemaVersionError extends Error {
  override name = 'SchemaVersionError';
}
