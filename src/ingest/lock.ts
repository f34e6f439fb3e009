import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Another live process holds the writer lock of this index. */
export class IndexLockedError extends Error {
  constructor(readonly lockFile: string, readonly pid: number) {
    super(
      `another ingest (pid ${pid}) is writing this index; wait for it to finish. ` +
        `If no ingest is running, delete ${lockFile}.`,
    );
    this.name = 'IndexLockedError';
  }
}

export interface WriterLock {
  release(): void;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // exists, but is someone else's
  }
}

function holderOf(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined; // vanished meanwhile
  }
}

/**
 * Takes the one-writer lock of an index: a file created exclusively that holds our pid. A lock left by a dead
 * process (kill -9, power loss) is taken over; a live holder makes this throw IndexLockedError. Readers never
 * take it. (Two writers starting in the same instant over a stale lock could both take it over; SQLite still
 * serialises their transactions, and that race needs a crashed writer plus two simultaneous restarts.)
 */
export function acquireWriterLock(file: string): WriterLock {
  mkdirSync(dirname(file), { recursive: true });
  // The pid is written first and the lock appears complete via link(), which fails if the lock exists:
  // nobody ever sees an empty lock file.
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${process.pid}\n`);
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        linkSync(temp, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const pid = holderOf(file);
        if (pid !== undefined && isAlive(pid)) throw new IndexLockedError(file, pid);
        rmSync(file, { force: true }); // stale: its holder is dead
        continue;
      }
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          if (holderOf(file) === process.pid) rmSync(file, { force: true });
        },
      };
    }
    throw new Error(`could not take the writer lock ${file}`);
  } finally {
    rmSync(temp, { force: true });
  }
}
