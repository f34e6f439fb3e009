import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../config.js';

export interface DatabaseProcess {
  /** The postgres:// URL it serves. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * `npm run db` (PGlite + pgvector over the wire protocol) in a child process on a free port with its data in
 * `dataDir`: a separate server process, as a real PostgreSQL would be, for the tests and the benchmark.
 */
export async function spawnDatabaseProcess(dataDir: string): Promise<DatabaseProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src', 'cli', 'db.ts'), '--port', '0', '--data', dataDir], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Never outlives this process, even when the caller fails before it stops it.
  const orphanGuard = () => child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  try {
    const url = await firstLine(child);
    return {
      url,
      stop: async () => {
        process.off('exit', orphanGuard);
        await stopChild(child);
      },
    };
  } catch (err) {
    process.off('exit', orphanGuard);
    child.kill('SIGKILL');
    throw err;
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
