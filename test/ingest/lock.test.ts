import { expect } from 'chai';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/config.js';
import { IndexLockedError, acquireWriterLock } from '../../src/ingest/lock.js';
import { indexLayout } from '../../src/store/indexLayout.js';
import { tempDir } from '../helpers/tempFolders.js';

/** A process that tries to take the lock at `startAt` and holds a won lock for `holdMs`. */
function contender(indexDir: string, startAt: number, holdMs: number): { child: ChildProcess; line: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'test', 'helpers', 'holdWriterLock.ts'), indexDir, String(startAt), String(holdMs)], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = new Promise<string>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.trim());
    });
    child.on('close', () => resolve(out.trim()));
  });
  return { child, line };
}

const exited = (child: ChildProcess) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.on('close', resolve)));

describe('writer lock', function () {
  this.timeout(60_000);
  let dir: string;
  let files: ReturnType<typeof indexLayout>['writerLock'];
  beforeEach(() => {
    dir = tempDir('lock');
    files = indexLayout(join(dir, 'index')).writerLock;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('admits one writer at a time, naming the holder, and is free again once released', () => {
    const lock = acquireWriterLock(files);
    expect(readFileSync(files.holder, 'utf8').trim()).to.equal(String(process.pid));
    expect(() => acquireWriterLock(files)).to.throw(IndexLockedError, new RegExp(`pid ${process.pid}\\b.*wait for it to finish`));
    lock.release();
    expect(existsSync(files.holder)).to.equal(false);
    lock.release(); // twice is harmless
    acquireWriterLock(files).release();
  });

  it('refuses while another process holds it, and is free the moment that process is killed with -9', async () => {
    const holder = contender(join(dir, 'index'), 0, 600_000);
    const won = await holder.line;
    expect(won).to.equal(`won ${holder.child.pid}`);
    expect(() => acquireWriterLock(files)).to.throw(IndexLockedError, new RegExp(`pid ${holder.child.pid}\\b`));
    holder.child.kill('SIGKILL');
    await exited(holder.child);
    const lock = acquireWriterLock(files); // nothing to take over: the kernel freed it
    expect(readFileSync(files.holder, 'utf8').trim()).to.equal(String(process.pid));
    lock.release();
  });

  it('lets exactly one of several processes starting at the same instant take it', async () => {
    for (let round = 0; round < 3; round++) {
      const startAt = Date.now() + 1500; // after every contender has started, on an idle machine
      // The winner holds the lock until every contender has answered: on a loaded machine a contender can start
      // after startAt, and it must still find the lock taken rather than already released.
      const contenders = Array.from({ length: 6 }, () => contender(join(dir, 'index'), startAt, 600_000));
      const lines = await Promise.all(contenders.map((c) => c.line));
      for (const c of contenders) c.child.kill('SIGKILL');
      expect(lines.filter((l) => l.startsWith('won')), lines.join(', ')).to.have.length(1);
      expect(lines.filter((l) => l === 'refused')).to.have.length(5);
      await Promise.all(contenders.map((c) => exited(c.child)));
    }
  });
});
