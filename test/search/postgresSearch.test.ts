import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { cosineDistance } from '../../src/certify/index.js';
import { ingest } from '../../src/ingest/ingestService.js';
import { Embedder } from '../../src/model/embedder.js';
import { IndexReader } from '../../src/search/indexReader.js';
import { SearchService } from '../../src/search/searchService.js';
import type { SearchOptions, SearchResult } from '../../src/search/types.js';
import { type RunningServer, startServer } from '../../src/server/server.js';
import { cocoFiles } from '../helpers/cocoVectors.js';
import { type TestDatabase, resetDatabase, startTestDatabase } from '../helpers/postgres.js';
import { buildIndex, tempDir } from '../helpers/testIndex.js';

/** COCO photos ingested into both backends: enough for distinct top-10 lists, quick on 2 cores. */
const CORPUS = 40;
const OPTIONS: SearchOptions = { k: 10, offset: 0, epsilon: 0.3, copyCheck: true };

describe('PostgreSQL backend end to end (ingest, search, server)', () => {
  let database: TestDatabase;
  let files: string[];

  before(async () => {
    database = await startTestDatabase();
    files = cocoFiles(CORPUS);
  });
  after(() => database?.stop());

  it('answers like the embedded index: same top-10, same distances, same certificates', async () => {
    await resetDatabase(database.url);
    await ingest({ paths: files, database: database.url, device: 'cpu', decoders: 1 });
    const embedded = await buildIndex(files, 'lipsearch-pg-twin-');
    const onPg = await IndexReader.open({ kind: 'postgres', url: database.url });
    const onSqlite = await IndexReader.open(embedded.dir);
    const embedder = await Embedder.open({ device: 'cpu' });
    try {
      const pgSearch = new SearchService(onPg, embedder);
      const sqliteSearch = new SearchService(onSqlite, embedder);
      // Ids may differ (commit order): compare through the files they stand for.
      const same = async (a: SearchResult, b: SearchResult) => expect(await comparable(onPg, a)).to.deep.equal(await comparable(onSqlite, b));
      for (const file of files.slice(0, 4)) {
        const bytes = readFileSync(file);
        await same(await pgSearch.byUpload(bytes, OPTIONS), await sqliteSearch.byUpload(bytes, OPTIONS));
      }
      for (const file of files.slice(4, 8)) {
        const pgId = (await onPg.store.findByPath(file))!.id;
        const sqliteId = (await onSqlite.store.findByPath(file))!.id;
        const result = await pgSearch.byId(pgId, OPTIONS);
        expect(result.hits[0].id).to.equal(pgId);
        expect(result.certificate!.scope).to.equal('exact');
        await same(result, await sqliteSearch.byId(sqliteId, OPTIONS));
      }
    } finally {
      await embedder.close();
      await onPg.close();
      await onSqlite.close();
    }
  });

  it('uses pgvector candidates re-ranked exactly above the exact-scan limit', async () => {
    await resetDatabase(database.url);
    await ingest({ paths: files.slice(0, 20), database: database.url, device: 'cpu', decoders: 1 });
    const reader = await IndexReader.open({ kind: 'postgres', url: database.url }, { exactScanLimit: 5 });
    const embedder = await Embedder.open({ device: 'cpu' });
    try {
      const search = new SearchService(reader, embedder);
      const id = (await reader.store.findByPath(files[3]))!.id;
      const result = await search.byId(id, { ...OPTIONS, k: 5 });
      expect(result.certificate!.scope).to.equal('index');
      expect(result.hits[0].id).to.equal(id);
      const query = (await reader.store.getVector(id))!;
      for (const hit of result.hits) expect(hit.distance).to.equal(cosineDistance(query, (await reader.store.getVector(hit.id))!));
      expect(result.hits.map((h) => h.distance)).to.deep.equal(result.hits.map((h) => h.distance).sort((a, b) => a - b));
    } finally {
      await embedder.close();
      await reader.close();
    }
  });

  it('serves the database: sees images an ingest adds after the start, thumbnails from the database, attacks on its vectors', async () => {
    await resetDatabase(database.url);
    await ingest({ paths: files.slice(0, 6), database: database.url, device: 'cpu', decoders: 1 });
    let server: RunningServer | undefined;
    try {
      server = await startServer({ indexDir: tempDir('lipsearch-unused-'), database: database.url, port: 0, baselineWarmUpLimit: 0 });
      const get = async (path: string) => (await fetch(`${server!.url}${path}`)).json() as Promise<{ total: number; images: { id: number }[] }>;
      expect((await get('/api/images')).total).to.equal(6);

      await ingest({ paths: files.slice(0, 9), database: database.url, device: 'cpu', decoders: 1 });
      const listed = await get('/api/images?perPage=50');
      expect(listed.total).to.equal(9);
      const newest = Math.max(...listed.images.map((i) => i.id));
      const neighbours = (await (await fetch(`${server.url}/api/images/${newest}/neighbours?k=3`)).json()) as { results: { id: number }[] };
      expect(neighbours.results[0].id).to.equal(newest);

      const response = await fetch(`${server.url}/api/images/${newest}/thumbnail`);
      expect(response.headers.get('content-type')).to.match(/image\/webp/);
      const served = Buffer.from(await response.arrayBuffer());
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        const { rows } = await client.query('SELECT t.webp FROM thumbnails t JOIN images i USING (sha256) WHERE i.id = $1', [newest]);
        expect(served.equals(rows[0].webp)).to.equal(true);
      } finally {
        await client.end();
      }

      // The attack page's comparison runs on the database's vectors and the recorded originals.
      const started = await fetch(`${server.url}/api/attacks`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ id: newest, epsilon: 1, steps: 3, k: 3 }),
      });
      expect(started.status).to.equal(202);
      const attackPath = started.headers.get('location')!;
      let status: { state: string; models: { model: string; state: string }[] };
      do {
        await new Promise((r) => setTimeout(r, 200));
        status = await (await fetch(`${server.url}${attackPath}`)).json();
      } while (status.state === 'preparing' || status.state === 'running');
      expect(status.state).to.equal('done');
      expect(status.models.map((m) => [m.model, m.state])).to.deep.equal([['lipsim', 'done'], ['baseline', 'done']]);
    } finally {
      await server?.close();
    }
  });
});

/** A result with ids replaced by the file each stands for, and timings left out. */
async function comparable(reader: IndexReader, result: SearchResult): Promise<unknown> {
  const certificate = result.certificate;
  const pairs = certificate ? Object.values(certificate.limitedBy).flatMap((p) => (p ? [p.ahead, p.behind ?? []].flat() : [])) : [];
  const copies = certificate?.copyCheck?.possibleCopies ?? [];
  const ids = [...result.hits.map((h) => h.id), ...copies.map((c) => c.id), ...pairs];
  const records = new Map((await reader.store.getImages(ids)).map((r) => [r.id, r.paths[0]]));
  const file = (id: number | null) => (id === null ? null : records.get(id));
  const pair = (p: { ahead: number; behind: number | null } | null) => p && { ahead: file(p.ahead), behind: file(p.behind) };
  return {
    hits: result.hits.map((h) => ({ rank: h.rank, file: file(h.id), distance: h.distance, bound: h.bound })),
    certificate: certificate && {
      ...certificate,
      limitedBy: { top1: pair(certificate.limitedBy.top1), topkSet: pair(certificate.limitedBy.topkSet), topkOrder: pair(certificate.limitedBy.topkOrder) },
      copyCheck: certificate.copyCheck && { ...certificate.copyCheck, possibleCopies: copies.map((c) => ({ ...c, id: file(c.id) })) },
    },
    corpusSize: result.corpusSize,
  };
}
