import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IndexLockedError, acquireWriterLock } from '../../src/ingest/lock.js';
import { tempDir } from '../helpers/tempFolders.js';

describe('writer lock', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = tempDir('lock');
    file = join(dir, 'index', 'writer.lock');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('admits one writer at a time, naming the holder, and is free again once released', () => {
    const lock = acquireWriterLock(file);
    expect(readFileSync(file, 'utf8').trim()).to.equal(String(process.pid));
    expect(() => acquireWriterLock(file)).to.throw(IndexLockedError, new RegExp(`pid ${process.pid}.*${file}`));
    lock.release();
    expect(existsSync(file)).to.equal(false);
    acquireWriterLock(file).release();
  });

  it('takes over the lock of a dead process (a writer killed with kill -9)', () => {
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const lock = acquireWriterLock(file); // creates the folder
    lock.release();
    writeFileSync(file, `${dead}\n`);
    const taken = acquireWriterLock(file);
    expect(readFileSync(file, 'utf8').trim()).to.equal(String(process.pid));
    taken.release();
  });

  it('does not release a lock that another process has since taken', () => {
    const lock = acquireWriterLock(file);
    writeFileSync(file, '1\n'); // pid 1 (init) is alive: as if another writer held it
    lock.release();
    expect(readFileSync(file, 'utf8').trim()).to.equal('1');
    expect(() => acquireWriterLock(file)).to.throw(IndexLockedError);
  });
});
