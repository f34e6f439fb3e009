import Database from 'better-sqlite3';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Another live process holds the writer lock of this index. */
export class IndexLockedError extends Error {
  constructor(readonly lockFile: string, readonly pid: number | undefined) {
    super(
      `another ingest${pid === undefined ? '' : ` (pid ${pid})`} is writing this index; wait for it to finish ` +
        '(the lock is freed the moment that process ends, even if it crashes).',
    );
    this.name = 'IndexLockedError';
  }
}

export interface WriterLock {
  release(): void;
}

export interface WriterLockFiles {
  /** The SQLite file whose exclusive transaction is the lock; it stays in the index folder. */
  readonly lock: string;
  /** The holder's pid, for the message a refused writer prints; present only while the lock is held. */
  readonly holder: string;
}

function readHolder(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined; // not written yet, or removed meanwhile
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, but is someone else's
  }
}

/**
 * The holder writes its pid just after taking the lock (over any pid a killed holder left): a writer refused
 * in that instant waits briefly for a live holder's pid, and names none rather than a wrong one.
 */
function holderOf(file: string): number | undefined {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let attempt = 0; attempt < 20; attempt++) {
    const pid = readHolder(file);
    if (pid !== undefined && isAlive(pid)) return pid;
    Atomics.wait(pause, 0, 0, 10);
  }
  return undefined;
}

/**
 * Takes the one-writer lock of an index: an exclusive SQLite transaction on the lock file, held until release.
 * SQLite locks with fcntl, so the kernel decides between writers starting in the same instant and frees the
 * lock when its holder dies (kill -9, power loss): there is no stale lock to detect or take over, and no
 * window in which two writers both hold it. Readers never take it.
 */
export function acquireWriterLock(files: WriterLockFiles): WriterLock {
  mkdirSync(dirname(files.lock), { recursive: true });
  const db = new Database(files.lock, { timeout: 0 });
  try {
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new IndexLockedError(files.lock, holderOf(files.holder));
    throw err;
  }
  writeFileSync(files.holder, `${process.pid}\n`);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      rmSync(files.holder, { force: true }); // while still held: a next holder's pid file is never removed
      db.exec('ROLLBACK');
      db.close();
    },
  };
}
