import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { openIngestTarget } from '../../src/backend/open.js';
import { PROJECT_ROOT } from '../../src/config.js';
import { cocoFiles } from '../helpers/cocoVectors.js';
import { type CliExit, cliExited, spawnIngestCli } from '../helpers/ingestCli.js';
import { type TestDatabase, resetDatabase, startTestDatabase } from '../helpers/postgres.js';

function serveCli(args: string[]): Promise<CliExit> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src', 'cli', 'serve.ts'), '--port', '0', ...args], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return cliExited(child);
}

/** Status 1 and one line on stderr: the message, never a stack trace. */
function expectOneLine(exit: CliExit, pattern: RegExp): void {
  expect(exit.code, exit.stderr).to.equal(1);
  expect(exit.stderr.trim().split('\n'), exit.stderr).to.have.length(1);
  expect(exit.stderr).to.match(pattern).and.not.match(/\n\s+at /);
}

async function sql(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

describe('PostgreSQL problems: one clear line and status 1 (npm run ingest, npm start)', () => {
  let database: TestDatabase;
  const photo = () => cocoFiles(1)[0];

  before(async () => (database = await startTestDatabase()));
  after(() => database?.stop());

  it('a URL that is not a postgres:// URL, or a server that is not there', async () => {
    expectOneLine(await cliExited(spawnIngestCli([photo(), '--database', 'not a url'])), /^ingest: the database URL is not a URL/);
    expectOneLine(await cliExited(spawnIngestCli([photo(), '--database', 'mysql://u@h/db'])), /must start with postgres:\/\//);
    const nobody = 'postgres://postgres:secret@127.0.0.1:1/postgres';
    const refused = await cliExited(spawnIngestCli([photo(), '--database', nobody]));
    expectOneLine(refused, /cannot connect to PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/postgres: connection refused/);
    expect(refused.stderr).to.not.contain('secret');
    expectOneLine(await serveCli(['--database', nobody]), /^lipsearch: cannot connect to PostgreSQL/);
  });

  it('a database without the vector extension, or without an index yet (server)', async () => {
    await resetDatabase(database.url); // drops the extension with the schema
    expectOneLine(await serveCli(['--database', database.url]), /pgvector extension is not installed/);
    await sql(database.url, 'CREATE EXTENSION vector');
    expectOneLine(await serveCli(['--database', database.url]), /^lipsearch: no index in postgres:.* yet: build one with `npm run ingest -- <folder of images> --database <url>`/);
  });

  it('a schema of another version', async () => {
    await resetDatabase(database.url);
    await (await openIngestTarget({ kind: 'postgres', url: database.url })).close(); // creates the schema
    await sql(database.url, 'UPDATE lipsearch_schema SET version = 99');
    expectOneLine(await serveCli(['--database', database.url]), /schema version 99, expected 1: upgrade lipsearch/);
    expectOneLine(await cliExited(spawnIngestCli([photo(), '--database', database.url])), /schema version 99 is newer than this program's \(1\)/);
  });

  it('an index pinned to another model, as with the embedded index', async () => {
    await resetDatabase(database.url);
    const target = await openIngestTarget({ kind: 'postgres', url: database.url });
    const other = { modelName: 'lipsim', modelVersion: 'f'.repeat(64), dim: 512, space: 'cosine' as const, decoder: null };
    await target.repository.pinModel(() => ({ kind: 'record', meta: other, clear: 'none' }));
    await target.close();
    const exit = await cliExited(spawnIngestCli([photo(), '--database', database.url]));
    expectOneLine(exit, /^ingest: the index at postgres:.* was built with model "lipsim" version ffffffffffff…, .*--reindex/);
  });

  it('--index and --database together', async () => {
    const exit = await cliExited(spawnIngestCli([photo(), '--index', '/tmp/x', '--database', database.url]));
    expect(exit.code).to.equal(2);
    expect(exit.stderr).to.match(/--index and --database exclude each other/);
  });
});
