import { expect } from 'chai';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { walkImages } from '../../src/ingest/walk.js';
import { copyCoco, tempDir } from '../helpers/tempFolders.js';

describe('walkImages', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir('walk')));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds images recursively by extension (any case), counts other files, and sorts by path', async () => {
    const [a, b] = copyCoco(join(dir, 'x', 'y'), 2);
    writeFileSync(join(dir, 'UPPER.JPG'), 'bytes');
    writeFileSync(join(dir, 'x', 'notes.txt'), 'text');
    writeFileSync(join(dir, 'x', 'video.mp4'), 'video');
    const result = await walkImages([dir]);
    expect(result.files.map((f) => f.path)).to.deep.equal([join(dir, 'UPPER.JPG'), a, b].sort());
    expect(result.skipped).to.equal(2);
    expect(result.failures).to.deep.equal([]);
    expect(result.files[1].size).to.be.greaterThan(0);
  });

  it('follows symbolic links without looping, and reports broken ones', async () => {
    const [photo] = copyCoco(join(dir, 'a'), 1);
    symlinkSync(dir, join(dir, 'a', 'loop')); // a/loop -> the root: a cycle
    symlinkSync(join(dir, 'missing.jpg'), join(dir, 'a', 'broken.jpg'));
    const result = await walkImages([dir]);
    expect(result.files.map((f) => f.path)).to.deep.equal([photo]);
    expect(result.failures).to.deep.equal([{ path: join(dir, 'a', 'broken.jpg'), reason: 'broken symbolic link or vanished file' }]);
  });

  it('skips the excluded index folder, merges overlapping roots, and reports a missing root', async () => {
    const [photo] = copyCoco(join(dir, 'photos'), 1);
    mkdirSync(join(dir, 'photos', 'index', 'thumbs'), { recursive: true });
    writeFileSync(join(dir, 'photos', 'index', 'thumbs', 'abc.webp'), 'thumbnail');
    const result = await walkImages([join(dir, 'photos'), photo, join(dir, 'nope')], [join(dir, 'photos', 'index')]);
    expect(result.files.map((f) => f.path)).to.deep.equal([photo]);
    expect(result.failures).to.deep.equal([{ path: join(dir, 'nope'), reason: 'no such file or folder' }]);
  });
});
