/**
 * A separate process for the writer-lock tests: waits until the given instant, tries to take the lock of an
 * index, prints `won <pid>` or `refused`, holds a won lock for the given time (or until killed), then exits.
 *
 *   node --import tsx test/helpers/holdWriterLock.ts <indexDir> <startAtEpochMs> <holdMs>
 */
import { IndexLockedError, acquireWriterLock } from '../../src/ingest/lock.js';
import { indexLayout } from '../../src/store/indexLayout.js';

const [indexDir, startAt, holdMs] = process.argv.slice(2);
while (Date.now() < Number(startAt)); // spin: every contender tries at the same instant
try {
  const lock = acquireWriterLock(indexLayout(indexDir).writerLock);
  process.stdout.write(`won ${process.pid}\n`);
  setTimeout(() => lock.release(), Number(holdMs));
} catch (err) {
  if (!(err instanceof IndexLockedError)) throw err;
  process.stdout.write('refused\n');
}
