import { expect } from 'chai';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { IngestSummary } from '../../src/ingest/ingestService.js';
import { type CliExit, cliExited, spawnIngestCli } from '../helpers/ingestCli.js';
import { type TestDatabase, resetDatabase, startTestDatabase } from '../helpers/postgres.js';
import { copyCoco, sha256File, tempDir } from '../helpers/tempFolders.js';

function runIngest(folders: string[], url: string): Promise<CliExit> {
  return cliExited(spawnIngestCli([...folders, '--database', url, '--device', 'cpu', '--decoders', '1', '--batch', '4', '--json']));
}

describe('two ingests into one PostgreSQL index at the same moment', () => {
  let database: TestDatabase;
  before(async () => (database = await startTestDatabase()));
  after(() => database?.stop());

  it('both finish, and the index holds the union of their files with each content stored once', async () => {
    await resetDatabase(database.url);
    const root = tempDir('pg-concurrent');
    try {
      // Each ingest has a folder of its own and both share one; the own folders also hold the same photos
      // under other names (content met by both ingests at once).
      const shared = copyCoco(join(root, 'shared'), 8);
      const a = [...copyCoco(join(root, 'a'), 8, 8), ...copyCoco(join(root, 'a', 'copies'), 4, 20)];
      const b = [...copyCoco(join(root, 'b'), 8, 12), ...copyCoco(join(root, 'b', 'copies'), 4, 20)];
      const [first, second] = await Promise.all([
        runIngest([join(root, 'a'), join(root, 'shared')], database.url),
        runIngest([join(root, 'shared'), join(root, 'b')], database.url),
      ]);
      for (const exit of [first, second]) expect(exit.code, exit.stderr).to.equal(0);
      for (const exit of [first, second]) expect((JSON.parse(exit.stdout) as IngestSummary).failed).to.equal(0);

      const files = [...shared, ...a, ...b];
      const contents = new Map(files.map((f) => [f, sha256File(f)]));
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const paths = await client.query('SELECT p.path, i.sha256 FROM paths p JOIN images i ON i.id = p.image_id ORDER BY p.path');
        expect(paths.rows.map((r) => [r.path, r.sha256])).to.deep.equal([...contents.entries()].sort(([x], [y]) => (x < y ? -1 : 1)));
        const counts = await client.query(
          'SELECT (SELECT count(*) FROM images)::int AS images, (SELECT count(*) FROM vectors)::int AS vectors, (SELECT count(DISTINCT sha256) FROM images)::int AS contents',
        );
        const distinct = new Set(contents.values()).size;
        expect(counts.rows[0]).to.deep.equal({ images: distinct, vectors: distinct, contents: distinct });
      } finally {
        await client.end();
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
