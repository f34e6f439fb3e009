import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { PROJECT_ROOT } from '../../src/config.js';
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
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(PROJECT_ROOT, 'src', 'cli', 'db.ts'), '--port', '0', '--data', tempDir('lipsearch-pg-')],
    { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Never outlives the test process, even when a suite fails before its after hook.
  const orphanGuard = () => child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  const url = await firstLine(child);
  return {
    url,
    stop: async () => {
      process.off('exit', orphanGuard);
      await stopChild(child);
    },
  };
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

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdout!.on('data', (d) => {
      stdout += d;
      const newline = stdout.indexOf('\n');
      if (newline >= 0) resolve(stdout.slice(0, newline).trim());
    });
    child.once('exit', (code) => reject(new Error(`npm run db exited with ${code}: ${stderr}`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
