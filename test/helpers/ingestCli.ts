import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/config.js';
import { IndexLockedError, acquireWriterLock } from '../../src/ingest/lock.js';
import { ImageStore } from '../../src/store/imageStore.js';
import { indexLayout } from '../../src/store/indexLayout.js';

const CLI = join(PROJECT_ROOT, 'src', 'cli', 'ingest.ts');

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `npm run ingest` as a child process (so tests can kill it like a user would). */
export function spawnIngestCli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function cliExited(child: ChildProcess): Promise<CliExit> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** Images committed so far, read as the server would (read-only, beside the writer). */
export function committedImages(indexDir: string): number {
  if (!existsSync(indexLayout(indexDir).database)) return 0;
  try {
    const store = ImageStore.open(indexDir, { readonly: true });
    try {
      return store.count();
    } finally {
      store.close();
    }
  } catch {
    return 0; // schema not created yet
  }
}

/** True when no process holds the index's writer lock (taking it proves it) and no holder pid is left behind. */
export function writerLockIsFree(indexDir: string): boolean {
  const files = indexLayout(indexDir).writerLock;
  if (existsSync(files.holder)) return false;
  try {
    acquireWriterLock(files).release();
    return true;
  } catch (err) {
    if (err instanceof IndexLockedError) return false;
    throw err;
  }
}
