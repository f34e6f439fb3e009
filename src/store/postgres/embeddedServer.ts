import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgresOptions {
  /** Folder the database lives in (created; reused on the next start). */
  readonly dataDir: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly host?: string;
  /** Client connections accepted at once; more are refused by the server. */
  readonly maxConnections?: number;
}

export interface EmbeddedPostgres {
  /** The postgres:// URL clients connect with. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Enough for a few ingest workers and servers with small pools. PGlite runs one statement at a time whatever
 * the number: pglite-socket queues the clients' messages and, while a client is inside BEGIN … COMMIT, runs only
 * that client's (which is why the PostgreSQL repository runs every operation in an explicit transaction).
 */
export const DEFAULT_MAX_CONNECTIONS = 32;

/**
 * PGlite (PostgreSQL compiled to WebAssembly, with pgvector) persisted in `dataDir` and served over the
 * PostgreSQL wire protocol: a real PostgreSQL for development and tests, without installing one.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  mkdirSync(options.dataDir, { recursive: true });
  const db = await PGlite.create({ dataDir: options.dataDir, extensions: { vector } });
  const server = new PGLiteSocketServer({
    db,
    port: options.port,
    host: options.host ?? '127.0.0.1',
    maxConnections: options.maxConnections ?? DEFAULT_MAX_CONNECTIONS,
  });
  try {
    await server.start();
  } catch (err) {
    await db.close();
    throw err;
  }
  return {
    // PGlite has one user and one database, both `postgres`, and no password.
    url: `postgres://postgres@${server.getServerConn()}/postgres`,
    stop: async () => {
      await server.stop();
      await db.close();
    },
  };
}
