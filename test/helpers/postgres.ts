import pg from 'pg';
import { spawnDatabaseProcess } from '../../src/store/postgres/databaseProcess.js';
import { tempDir } from './testIndex.js';

export interface TestDatabase {
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * A PostgreSQL with pgvector for tests: the one at LIPSEARCH_TEST_DATABASE_URL when set (its public schema is
 * wiped by `resetDatabase`), else `npm run db` (PGlite over the wire protocol) in a child process on a free
 * port with a temp data folder.
 */
export async function startTestDatabase(): Promise<TestDatabase> {
  const external = process.env.LIPSEARCH_TEST_DATABASE_URL;
  if (external) return { url: external, stop: async () => {} };
  return spawnDatabaseProcess(tempDir('lipsearch-pg-'));
}

/** Drops everything lipsearch created, so each test starts from an empty database. */
export async function resetDatabase(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public');
  } finally {
    await client.end();
  }
}
