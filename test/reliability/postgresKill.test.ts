import { expect } from 'chai';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import type { IngestSummary } from '../../src/ingest/ingestService.js';
import { cliExited, spawnIngestCli } from '../helpers/ingestCli.js';
import { type TestDatabase, resetDatabase, startTestDatabase } from '../helpers/postgres.js';
import { copyCoco, sha256File, tempDir } from '../helpers/tempFolders.js';

/** Enough that the ingest is still running when its first batch shows. */
const PHOTOS = 40;

async function counts(client: pg.Client): Promise<{ images: number; vectors: number; paths: number }> {
  const { rows } = await client.query(
    'SELECT (SELECT count(*) FROM images)::int AS images, (SELECT count(*) FROM vectors)::int AS vectors, (SELECT count(*) FROM paths)::int AS paths',
  );
  return rows[0];
}

describe('an ingest into PostgreSQL killed mid-run (kill -9)', () => {
  let database: TestDatabase;
  before(async () => (database = await startTestDatabase()));
  after(() => database?.stop());

  it('leaves whole batches only, and the next run finishes the job', async () => {
    await resetDatabase(database.url);
    const root = tempDir('pg-kill');
    const client = new pg.Client({ connectionString: database.url });
    try {
      const files = copyCoco(join(root, 'photos'), PHOTOS);
      const args = [join(root, 'photos'), '--database', database.url, '--device', 'cpu', '--decoders', '1', '--batch', '4', '--json'];
      const child = spawnIngestCli(args);
      const exited = cliExited(child);
      await client.connect();
      // Killed once a batch is committed (the query fails until the ingest has created the schema).
      for (let seen = 0; seen < 4; ) {
        await new Promise((r) => setTimeout(r, 100));
        seen = await counts(client).then((c) => c.images, () => 0);
        if (child.exitCode !== null) throw new Error('the ingest finished before it could be killed');
      }
      child.kill('SIGKILL');
      expect((await exited).signal).to.equal('SIGKILL');

      const after = await counts(client);
      expect(after.images % 4, 'whole batches of 4 only').to.equal(0);
      expect(after).to.deep.equal({ images: after.images, vectors: after.images, paths: after.images });

      const rerun = await cliExited(spawnIngestCli(args));
      expect(rerun.code, rerun.stderr).to.equal(0);
      expect(JSON.parse(rerun.stdout) as IngestSummary).to.include({ unchanged: after.images, added: PHOTOS - after.images, images: PHOTOS });
      const paths = await client.query('SELECT p.path, i.sha256 FROM paths p JOIN images i ON i.id = p.image_id ORDER BY p.path');
      expect(paths.rows.map((r) => [r.path, r.sha256])).to.deep.equal(files.sort().map((f) => [f, sha256File(f)]));
      expect(await counts(client)).to.deep.equal({ images: PHOTOS, vectors: PHOTOS, paths: PHOTOS });
    } finally {
      await client.end();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
