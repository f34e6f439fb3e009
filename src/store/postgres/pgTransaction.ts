import type pg from 'pg';

/** Deadlock, serialization failure, foreign key gone (an image deleted by another ingest meanwhile). */
const RETRYABLE = new Set(['40P01', '40001', '23503']);
const MAX_ATTEMPTS = 5;

/*
 * Every statement with parameters runs inside BEGIN … COMMIT. PGlite's wire server (npm run db) interleaves its
 * clients message by message, so an extended-protocol statement outside a transaction could have its unnamed
 * statement or portal replaced by another client's; inside one, it serves that client alone until COMMIT.
 * A real PostgreSQL pays two round trips more per operation (BEGIN, COMMIT), and a multi-statement read sees one
 * state.
 */

/** Runs `fn` in a read-only transaction (REPEATABLE READ: all its statements see one committed state). */
export async function readTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, isolation = 'READ COMMITTED'): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(`BEGIN ISOLATION LEVEL ${isolation} READ ONLY`);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** Runs `fn` in a write transaction; with `retry`, one that lost a race with another ingest runs again. */
export async function writeTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>, retry = false): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      const code = (err as { code?: string }).code;
      if (!retry || attempt >= MAX_ATTEMPTS || !code || !RETRYABLE.has(code)) throw err;
    } finally {
      client.release();
    }
  }
}
