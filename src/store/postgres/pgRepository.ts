import type pg from 'pg';
import type {
  BatchEntry,
  ContentOutcome,
  ImageRepository,
  PackedVectors,
  PathState,
  PinChange,
  RemovedImage,
  ShaState,
  StoredSnapshot,
} from '../repository.js';
import type { ImageRecord, IndexMeta, IngestErrorRecord } from '../types.js';
import { type ImageRow, imageRecord, metaEntries, metaFromEntries } from '../rows.js';
import { commitEntries } from './pgBatch.js';
import { PIN_LOCK, pgSchemaVersion } from './pgSchema.js';
import { readTransaction, writeTransaction } from './pgTransaction.js';
import { fromPgVector } from './pgVector.js';

/** Rows per round trip when scanning vectors or looking up many paths. */
const PAGE = 2000;

type Client = pg.PoolClient;

/**
 * The PostgreSQL repository. Every operation runs in an explicit transaction (see pgTransaction.ts); writes
 * end by bumping the change counter, which servers poll.
 */
export class PgRepository implements ImageRepository {
  constructor(private readonly pool: pg.Pool) {}

  getMeta(): Promise<IndexMeta | undefined> {
    return this.read((c) => readMeta(c));
  }

  count(): Promise<number> {
    return this.read(async (c) => countOf(c, 'SELECT count(*) AS n FROM images'));
  }

  async getImage(id: number): Promise<ImageRecord | undefined> {
    return (await this.getImages([id]))[0];
  }

  getImages(ids: readonly number[]): Promise<ImageRecord[]> {
    return this.read((c) => imagesByIds(c, ids));
  }

  listImages(offset: number, limit: number): Promise<ImageRecord[]> {
    return this.read(async (c) => {
      const { rows } = await c.query('SELECT id FROM images ORDER BY id LIMIT $1 OFFSET $2', [limit, offset]);
      return imagesByIds(c, rows.map((r) => Number(r.id)));
    });
  }

  findByPath(path: string): Promise<ImageRecord | undefined> {
    return this.read(async (c) => {
      const { rows } = await c.query('SELECT image_id FROM paths WHERE path = $1', [path]);
      return rows[0] ? (await imagesByIds(c, [Number(rows[0].image_id)]))[0] : undefined;
    });
  }

  async getVector(id: number): Promise<Float32Array | undefined> {
    return (await this.getVectors([id])).get(id);
  }

  getVectors(ids: readonly number[]): Promise<Map<number, Float32Array>> {
    return this.read(async (c) => {
      const { rows } = await c.query('SELECT image_id, embedding::text AS v FROM vectors WHERE image_id = ANY($1::bigint[])', [ids]);
      return new Map(rows.map((r) => [Number(r.image_id), fromPgVector(r.v)]));
    });
  }

  vectorCount(): Promise<number> {
    return this.read((c) => countOf(c, 'SELECT count(*) AS n FROM vectors'));
  }

  vectorIds(): Promise<number[]> {
    return this.read(async (c) => (await c.query('SELECT image_id FROM vectors ORDER BY image_id')).rows.map((r) => Number(r.image_id)));
  }

  forEachVector(callback: (id: number, vector: Float32Array) => void): Promise<void> {
    return this.read((c) => scanVectors(c, callback));
  }

  readSnapshot(packLimit: number): Promise<StoredSnapshot> {
    // REPEATABLE READ: every statement of the transaction sees the same committed state.
    return this.read(async (c) => {
      const meta = await readMeta(c);
      const vectorCount = await countOf(c, 'SELECT count(*) AS n FROM vectors');
      if (!meta || vectorCount > packLimit) return { meta, vectorCount, packed: undefined };
      const ids: number[] = [];
      const vectors = new Float32Array(vectorCount * meta.dim);
      await scanVectors(c, (id, vector) => {
        if (vector.length !== meta.dim) throw new Error(`vector of image ${id} has the wrong size`);
        vectors.set(vector, ids.length * meta.dim);
        ids.push(id);
      });
      const packed: PackedVectors = { ids, vectors, dim: meta.dim };
      return { meta, vectorCount, packed };
    }, 'REPEATABLE READ');
  }

  listErrors(limit: number): Promise<IngestErrorRecord[]> {
    return this.read(async (c) => {
      const { rows } = await c.query('SELECT path, reason, at FROM ingest_errors ORDER BY at DESC, path LIMIT $1', [limit < 0 ? null : limit]);
      return rows.map((r) => ({ path: r.path, reason: r.reason, at: r.at }));
    });
  }

  countErrors(): Promise<number> {
    return this.read((c) => countOf(c, 'SELECT count(*) AS n FROM ingest_errors'));
  }

  /** One statement without parameters (the simple protocol): needs no transaction, and a server runs it per query. */
  async changeSignature(): Promise<string> {
    return String((await this.pool.query('SELECT n FROM change_counter')).rows[0].n);
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  async pinModel(decide: (meta: IndexMeta | undefined, images: number) => PinChange): Promise<void> {
    await this.write(async (c) => {
      // Two ingests starting at once: the second waits here, then sees (and is judged by) the first one's pin.
      await c.query('SELECT pg_advisory_xact_lock($1)', [PIN_LOCK]);
      const change = decide(await readMeta(c), await countOf(c, 'SELECT count(*) AS n FROM images'));
      if (change.kind === 'keep') return false;
      if (change.clear === 'all') await c.query('DELETE FROM vectors');
      else if (change.clear !== 'none') {
        await c.query('DELETE FROM vectors WHERE image_id IN (SELECT id FROM images WHERE least(width, height) >= $1)', [change.clear.fromSide]);
      }
      for (const [key, value] of metaEntries(change.meta)) {
        await c.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
      }
      return true;
    });
  }

  pathStates(paths: readonly string[]): Promise<Map<string, PathState>> {
    return this.read(async (c) => {
      const states = new Map<string, PathState>();
      for (let i = 0; i < paths.length; i += PAGE) {
        const { rows } = await c.query(
          `SELECT p.path, p.image_id, p.size, p.mtime_ms, EXISTS (SELECT 1 FROM vectors v WHERE v.image_id = p.image_id) AS embedded
           FROM paths p WHERE p.path = ANY($1::text[])`,
          [paths.slice(i, i + PAGE)],
        );
        for (const r of rows) states.set(r.path, { imageId: Number(r.image_id), size: Number(r.size), mtimeMs: r.mtime_ms, embedded: r.embedded });
      }
      return states;
    });
  }

  shaState(sha256: string): Promise<ShaState | undefined> {
    return this.read((c) => shaStateOf(c, sha256));
  }

  commitBatch(entries: readonly BatchEntry[]): Promise<(ContentOutcome | undefined)[]> {
    return this.write(async (c) => {
      return commitEntries(c, entries);
    }, true);
  }

  recordError(path: string, reason: string): Promise<void> {
    return this.write(async (c) => {
      await putError(c, path, reason);
    });
  }

  removeOrphans(): Promise<RemovedImage[]> {
    return this.write(async (c) => {
      const { rows } = await c.query(
        'DELETE FROM images i WHERE NOT EXISTS (SELECT 1 FROM paths p WHERE p.image_id = i.id) RETURNING id, sha256',
      );
      return rows.map((r) => ({ id: Number(r.id), sha256: r.sha256 }));
    });
  }

  allPaths(): Promise<string[]> {
    return this.read(async (c) => (await c.query('SELECT path FROM paths ORDER BY path')).rows.map((r) => r.path));
  }

  forgetPaths(paths: readonly string[]): Promise<void> {
    return this.write(async (c) => {
      await c.query('DELETE FROM paths WHERE path = ANY($1::text[])', [paths]);
      await c.query('DELETE FROM ingest_errors WHERE path = ANY($1::text[])', [paths]);
    });
  }

  private read<T>(fn: (client: Client) => Promise<T>, isolation?: string): Promise<T> {
    return readTransaction(this.pool, fn, isolation);
  }

  /** A write transaction ending with a bump of the change counter (unless `fn` returns false: nothing changed). */
  private write<T>(fn: (client: Client) => Promise<T>, retry = false): Promise<T> {
    return writeTransaction(
      this.pool,
      async (c) => {
        const result = await fn(c);
        if (result !== false) await c.query('UPDATE change_counter SET n = n + 1');
        return result;
      },
      retry,
    );
  }
}

async function putError(c: Client, path: string, reason: string): Promise<void> {
  await c.query(
    `INSERT INTO ingest_errors (path, reason, at) VALUES ($1, $2, $3)
     ON CONFLICT (path) DO UPDATE SET reason = excluded.reason, at = excluded.at`,
    [path, reason, new Date().toISOString()],
  );
}

async function shaStateOf(c: Client, sha256: string): Promise<ShaState | undefined> {
  const { rows } = await c.query(
    'SELECT id, EXISTS (SELECT 1 FROM vectors v WHERE v.image_id = images.id) AS embedded FROM images WHERE sha256 = $1',
    [sha256],
  );
  return rows[0] && { imageId: Number(rows[0].id), embedded: rows[0].embedded };
}

async function readMeta(c: Client): Promise<IndexMeta | undefined> {
  const { rows } = await c.query('SELECT key, value FROM meta');
  return metaFromEntries(new Map(rows.map((r) => [r.key as string, r.value as string])), await pgSchemaVersion(c));
}

async function countOf(c: Client, sql: string): Promise<number> {
  return Number((await c.query(sql)).rows[0].n);
}

async function imagesByIds(c: Client, ids: readonly number[]): Promise<ImageRecord[]> {
  if (ids.length === 0) return [];
  const images = await c.query<ImageRow>('SELECT * FROM images WHERE id = ANY($1::bigint[])', [ids]);
  const paths = await c.query('SELECT image_id, path FROM paths WHERE image_id = ANY($1::bigint[]) ORDER BY first_seen', [ids]);
  const pathsOf = new Map<number, string[]>();
  for (const r of paths.rows) {
    const id = Number(r.image_id);
    pathsOf.set(id, [...(pathsOf.get(id) ?? []), r.path]);
  }
  const byId = new Map(images.rows.map((r) => [Number(r.id), imageRecord(r, pathsOf.get(Number(r.id)) ?? [])]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}

/** Every vector in id order, a page at a time (keyset pagination inside the caller's transaction). */
async function scanVectors(c: Client, callback: (id: number, vector: Float32Array) => void): Promise<void> {
  let after = 0;
  for (;;) {
    const { rows } = await c.query(
      'SELECT image_id, embedding::text AS v FROM vectors WHERE image_id > $1 ORDER BY image_id LIMIT $2',
      [after, PAGE],
    );
    for (const r of rows) callback(Number(r.image_id), fromPgVector(r.v));
    if (rows.length < PAGE) return;
    after = Number(rows[rows.length - 1].image_id);
  }
}

