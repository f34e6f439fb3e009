import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { PROJECT_ROOT } from '../../src/config.js';
import { cliExited } from '../helpers/ingestCli.js';
import { type TestDatabase, startTestDatabase } from '../helpers/postgres.js';
import { tempDir } from '../helpers/testIndex.js';

describe('npm run db (embedded PostgreSQL over the wire protocol)', () => {
  let database: TestDatabase;
  before(async () => (database = await startTestDatabase()));
  after(async () => database?.stop());

  it('prints a postgres:// URL that node-postgres connects to, with pgvector available', async () => {
    expect(database.url).to.match(/^postgres:\/\/\S+@127\.0\.0\.1:\d+\/\S+$/);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      await client.query('CREATE EXTENSION IF NOT EXISTS vector');
      const { rows } = await client.query("SELECT '[1,0,0]'::vector <=> '[0,1,0]'::vector AS distance");
      expect(rows[0].distance).to.equal(1);
    } finally {
      await client.end();
    }
  });

  it('serves several clients at once, keeping each one\'s transaction whole', async () => {
    const pool = new pg.Pool({ connectionString: database.url, max: 4 });
    try {
      await pool.query('CREATE TABLE IF NOT EXISTS tally (client int, step int)');
      // Four clients each insert three rows in one transaction and read back their own count before COMMIT:
      // interleaved statements of another client would show up as a wrong count or an error.
      const counts = await Promise.all(
        [1, 2, 3, 4].map(async (n) => {
          const client = await pool.connect();
          try {
            await client.query('BEGIN');
            for (let step = 0; step < 3; step++) await client.query('INSERT INTO tally VALUES ($1, $2)', [n, step]);
            const { rows } = await client.query('SELECT count(*)::int AS n FROM tally WHERE client = $1', [n]);
            await client.query('COMMIT');
            return rows[0].n as number;
          } finally {
            client.release();
          }
        }),
      );
      expect(counts).to.deep.equal([3, 3, 3, 3]);
      expect((await pool.query('SELECT count(*)::int AS n FROM tally')).rows[0].n).to.equal(12);
    } finally {
      await pool.end();
    }
  });

  it('refuses a port in use, or a bad one, with one line', async function () {
    if (process.env.LIPSEARCH_TEST_DATABASE_URL) this.skip(); // the port of an external server may be elsewhere
    const port = new URL(database.url).port;
    const run = (args: string[]) =>
      cliExited(spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src', 'cli', 'db.ts'), ...args], { cwd: PROJECT_ROOT }));
    const taken = await run(['--port', port, '--data', tempDir('lipsearch-pg-taken-')]);
    expect(taken.code).to.equal(1);
    expect(taken.stderr).to.equal(`db: port ${port} is in use\n`);
    const bad = await run(['--port', 'fifty']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/^db: --port must be an integer/);
  });
});
