import { expect } from 'chai';
import { join } from 'node:path';
import { PostgresIngestTarget } from '../../src/backend/postgres.js';
import type { CopySummary } from '../../src/ingest/copyIndex.js';
import { ingest } from '../../src/ingest/ingestService.js';
import { IndexReader } from '../../src/search/indexReader.js';
import { cocoFiles } from '../helpers/cocoVectors.js';
import { cliExited, spawnIngestCli } from '../helpers/ingestCli.js';
import { type TestDatabase, resetDatabase, startTestDatabase } from '../helpers/postgres.js';
import { buildIndex, tempDir } from '../helpers/testIndex.js';

describe('npm run ingest -- --from-index <dir> --database <url> (copy an embedded index)', () => {
  let database: TestDatabase;
  before(async () => (database = await startTestDatabase()));
  after(() => database?.stop());

  it('copies images, paths, vectors bit for bit and thumbnails, embedding nothing; a later ingest finds nothing to do', async () => {
    await resetDatabase(database.url);
    const files = cocoFiles(8);
    const source = await buildIndex(files, 'lipsearch-copy-src-');
    const exit = await cliExited(spawnIngestCli(['--from-index', source.dir, '--database', database.url, '--json']));
    expect(exit.code, exit.stderr).to.equal(0);
    expect(JSON.parse(exit.stdout) as CopySummary).to.include({ images: 8, paths: 8, notEmbedded: 0, errors: 0 });

    const from = await IndexReader.open(source.dir);
    const to = await IndexReader.open({ kind: 'postgres', url: database.url });
    try {
      expect((await to.store.getMeta())!.modelVersion).to.equal((await from.store.getMeta())!.modelVersion);
      for (const file of files) {
        const [a, b] = [(await from.store.findByPath(file))!, (await to.store.findByPath(file))!];
        expect({ ...b, id: a.id, addedAt: a.addedAt }).to.deep.equal(a);
        expect(await to.store.getVector(b.id)).to.deep.equal(await from.store.getVector(a.id));
        expect(await to.thumbnail(b.sha256)).to.deep.equal(await from.thumbnail(a.sha256));
      }
    } finally {
      await from.close();
      await to.close();
    }
    // Same paths, sizes and mtimes: the incremental fast path skips every file unread.
    const again = await ingest({ paths: files, database: database.url, device: 'cpu' });
    expect(again).to.include({ unchanged: 8, added: 0, embedded: 0, images: 8 });
  });

  it('refuses to mix vectors of another model into the target, with one clear line', async () => {
    await resetDatabase(database.url);
    const source = await buildIndex(cocoFiles(1), 'lipsearch-copy-src-');
    const target = await PostgresIngestTarget.open(database.url);
    const other = { modelName: 'lipsim', modelVersion: 'e'.repeat(64), dim: 512, space: 'cosine' as const, decoder: null };
    await target.repository.pinModel(() => ({ kind: 'record', meta: other, clear: 'none' }));
    await target.close();
    const exit = await cliExited(spawnIngestCli(['--from-index', source.dir, '--database', database.url]));
    expect(exit.code).to.equal(1);
    expect(exit.stderr).to.match(/^ingest: the index at .* holds vectors of model eeeeeeeeeeee… .*cannot be mixed\n$/);
    const missing = await cliExited(spawnIngestCli(['--from-index', join(tempDir('lipsearch-none-'), 'x'), '--database', database.url]));
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.match(/^ingest: no index in .* to copy\n$/);
  });

  it('copies into another folder as well (--index): vectors, paths and thumbnail files', async () => {
    const files = cocoFiles(3);
    const source = await buildIndex(files, 'lipsearch-copy-src-');
    const targetDir = join(tempDir('lipsearch-copy-dst-'), 'index');
    const exit = await cliExited(spawnIngestCli(['--from-index', source.dir, '--index', targetDir, '--json']));
    expect(exit.code, exit.stderr).to.equal(0);
    const from = await IndexReader.open(source.dir);
    const to = await IndexReader.open(targetDir);
    try {
      expect((await to.current()).vectorCount).to.equal(3);
      for (const file of files) {
        const [a, b] = [(await from.store.findByPath(file))!, (await to.store.findByPath(file))!];
        expect(await to.store.getVector(b.id)).to.deep.equal(await from.store.getVector(a.id));
        expect(await to.thumbnail(b.sha256)).to.deep.equal(await from.thumbnail(a.sha256));
      }
    } finally {
      await from.close();
      await to.close();
    }
  });
});
