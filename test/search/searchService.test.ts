import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { cosineDistance } from '../../src/certify/index.js';
import { Embedder } from '../../src/model/embedder.js';
import { IndexReader } from '../../src/search/indexReader.js';
import { SearchError } from '../../src/search/searchErrors.js';
import { QueryImageCache } from '../../src/search/queryImageCache.js';
import { SearchService } from '../../src/search/searchService.js';
import type { SearchOptions } from '../../src/search/types.js';
import { type TestIndex, cocoTestIndex } from '../helpers/testIndex.js';
import { dataFile } from '../helpers/paths.js';

const options = (o: Partial<SearchOptions> = {}): SearchOptions => ({ k: 10, offset: 0, epsilon: 36 / 255, copyCheck: false, ...o });

async function refusal(promise: Promise<unknown>): Promise<SearchError> {
  const err = await promise.then(() => null, (e: unknown) => e);
  expect(err).to.be.instanceOf(SearchError);
  return err as SearchError;
}

describe('SearchService on a real COCO index', () => {
  let index: TestIndex;
  let reader: IndexReader;
  let embedder: Embedder;
  let service: SearchService;

  before(async () => {
    index = await cocoTestIndex();
    reader = await IndexReader.open(index.dir);
    embedder = await Embedder.open({ device: 'cpu' });
    service = new SearchService(reader, embedder);
  });
  after(async () => {
    await embedder.close();
    await reader.close();
  });

  it('finds each corpus image itself first, at distance ≈ 0, with an exact-scope certificate', async () => {
    for (const file of index.files.slice(0, 8)) {
      const id = index.idOf.get(file)!;
      const result = await service.byId(id, options());
      expect(result.hits[0].id).to.equal(id);
      expect(result.hits[0].distance).to.be.below(1e-5);
      expect(result.certificate!.scope).to.equal('exact');
      expect(result.certificate!.compared).to.equal(index.files.length);
      expect(result.certificate!.imagePixels).to.equal(null); // by-id: model-input space only
    }
  });

  it('returns the true top list: the exact ranking of every stored vector, and D the next distance', async () => {
    const id = index.idOf.get(index.files[3])!;
    const query = (await reader.store.getVector(id))!;
    const all: { id: number; distance: number }[] = [];
    await reader.store.forEachVector((other, vector) => all.push({ id: other, distance: cosineDistance(query, vector) }));
    all.sort((a, b) => a.distance - b.distance || a.id - b.id);

    const result = await service.byId(id, options({ k: 12 }));
    expect(result.hits.map((h) => h.id)).to.deep.equal(all.slice(0, 12).map((a) => a.id));
    result.hits.forEach((hit, i) => expect(hit.distance).to.be.closeTo(all[i].distance, 1e-12));
    // The certificate scored k + challengers items; D is the smallest distance beyond them.
    const scored = result.certificate!.answerSize;
    expect(scored).to.equal(12);
    expect(result.certificate!.otherDistanceLowerBound).to.be.at.most(all[all.length - 1].distance);
    expect(all.filter((a) => a.distance < result.certificate!.otherDistanceLowerBound!).length).to.be.at.least(scored);
  });

  it('agrees across an upload of the file, its corpus id and its raw vector', async () => {
    const file = index.files[5];
    const id = index.idOf.get(file)!;
    const upload = await service.byUpload(readFileSync(file), options());
    const byId = await service.byId(id, options());
    const vector = Array.from((await reader.store.getVector(id))!, (v) => 3 * v); // normalised by the engine
    const byVector = await service.byVector(vector, options());

    expect(upload.query.kind).to.equal('upload');
    expect(upload.hits[0].id).to.equal(id);
    expect(upload.hits[0].distance).to.be.below(1e-5);
    for (const other of [byId, byVector]) {
      expect(other.hits.map((h) => h.id)).to.deep.equal(upload.hits.map((h) => h.id));
      other.hits.forEach((hit, i) => expect(hit.distance).to.be.closeTo(upload.hits[i].distance, 1e-5));
    }
  });

  it('gives uploads their radii in their own pixels too (model-input radius ÷ resize norm)', async () => {
    const result = await service.byUpload(readFileSync(dataFile('imagenet-sample/images/n01443537_goldfish.jpg')), options());
    const c = result.certificate!;
    if (result.query.kind !== 'upload') throw new Error('not an upload');
    expect(c.imagePixels!.resizeNorm).to.equal(result.query.resizeNorm);
    for (const key of ['top1', 'topkSet', 'topkOrder'] as const) {
      expect(c.imagePixels![key]).to.be.closeTo(c.modelInput[key] / result.query.resizeNorm, 1e-12);
    }
  });

  it('pages with offset: ranks continue, and the certificate covers every result up to the page', async () => {
    const id = index.idOf.get(index.files[0])!;
    const first = await service.byId(id, options({ k: 10 }));
    const second = await service.byId(id, options({ k: 5, offset: 5 }));
    expect(second.hits.map((h) => h.id)).to.deep.equal(first.hits.slice(5).map((h) => h.id));
    expect(second.hits.map((h) => h.rank)).to.deep.equal([6, 7, 8, 9, 10]);
    expect(second.certificate!.answerSize).to.equal(10);
    expect(second.certificate!.modelInput).to.deep.equal(first.certificate!.modelInput);
  });

  it('bounds each distance for the requested ε, wider for a larger ε', async () => {
    const id = index.idOf.get(index.files[1])!;
    const small = await service.byId(id, options({ epsilon: 0.05 }));
    const large = await service.byId(id, options({ epsilon: 0.5 }));
    small.hits.forEach((hit, i) => {
      expect(hit.bound.lower).to.be.at.most(hit.distance);
      expect(hit.bound.upper).to.be.at.least(hit.distance);
      expect(large.hits[i].bound.upper - large.hits[i].bound.lower).to.be.above(hit.bound.upper - hit.bound.lower);
    });
  });

  it('checks for ε-copies: none provable below √(2·d_min), a possible copy above it', async () => {
    const goldfish = readFileSync(dataFile('imagenet-sample/images/n01443537_goldfish.jpg')); // not in the corpus
    const probe = await service.byUpload(goldfish, options({ copyCheck: true, epsilon: 0 }));
    const threshold = probe.certificate!.copyCheck!.epsilonProvenNoCopy!;
    expect(threshold).to.be.closeTo(Math.sqrt(2 * probe.hits[0].distance), 1e-9);

    const below = (await service.byUpload(goldfish, options({ copyCheck: true, epsilon: 0.5 * threshold }))).certificate!.copyCheck!;
    expect(below.provenNoCopy).to.equal(true);
    expect(below.possibleCopies).to.deep.equal([]);

    const above = (await service.byUpload(goldfish, options({ copyCheck: true, epsilon: 1.01 * threshold }))).certificate!.copyCheck!;
    expect(above.provenNoCopy).to.equal(false);
    expect(above.possibleCopies[0].id).to.equal(probe.hits[0].id);
    expect(above.complete).to.equal(true);
  });

  it('certifies against the index candidates only (scope index) when the corpus is above the exact-scan limit', async () => {
    const limited = await IndexReader.open(index.dir, { exactScanLimit: 10 });
    try {
      const id = index.idOf.get(index.files[6])!;
      const result = await new SearchService(limited, embedder).byId(id, options({ k: 5, copyCheck: true, epsilon: 0 }));
      expect(result.hits[0].id).to.equal(id);
      const c = result.certificate!;
      expect(c.scope).to.equal('index');
      expect(c.otherDistanceLowerBound).to.equal(null);
      expect(c.indexRecall).to.equal(null);
      expect(c.compared).to.be.at.most(5 + 20);
      expect(c.copyCheck!.provenNoCopy).to.equal(false); // nothing is proven about images never compared
      // The candidates' distances are exact all the same (re-ranked with the stored vectors).
      const query = (await reader.store.getVector(id))!;
      for (const hit of result.hits) expect(hit.distance).to.equal(cosineDistance(query, (await reader.store.getVector(hit.id))!));
    } finally {
      await limited.close();
    }
  });

  it('refuses bad vectors and unknown ids with clear errors', async () => {
    expect((await refusal(service.byVector([1, 2, 3], options()))).code).to.equal('invalid_vector');
    expect((await refusal(service.byVector(new Array(embedder.dim).fill(0), options()))).code).to.equal('invalid_vector');
    expect((await refusal(service.byVector(new Array(embedder.dim).fill('x'), options()))).code).to.equal('invalid_vector');
    expect((await refusal(service.byId(999_999, options()))).kind).to.equal('not_found');
    const never = await refusal(service.byCachedUpload('0'.repeat(64), options()));
    expect([never.kind, never.code]).to.deep.equal(['not_found', 'upload_not_found']);
  });

  it('times the embedding where it happens and reports it again for a search from the cache', async () => {
    const small = new SearchService(reader, embedder, { queryCache: new QueryImageCache({ maxEntries: 1 }) });
    const [first, second] = index.files.slice(20, 22).map((file) => readFileSync(file));
    const uploaded = await small.byUpload(first, options());
    const { embedMs, embeddedEarlier, searchMs, certifyMs, totalMs } = uploaded.timings;
    expect(embeddedEarlier).to.equal(false);
    expect(embedMs).to.be.above(searchMs); // decoding a photo and running the network dwarf the exact scan
    expect(totalMs).to.be.closeTo(embedMs + searchMs + certifyMs, 1e-9);
    if (uploaded.query.kind !== 'upload') throw new Error('not an upload');
    const again = await small.byCachedUpload(uploaded.query.sha256, options({ epsilon: 0.5 }));
    expect(again.timings).to.include({ embedMs, embeddedEarlier: true });
    expect(again.timings.totalMs).to.be.at.least(embedMs);
    expect((await small.byId(index.idOf.get(index.files[0])!, options())).timings).to.include({ embedMs: 0, embeddedEarlier: false });

    await small.byUpload(second, options()); // the cache holds one upload: the first is dropped
    const gone = await refusal(small.byCachedUpload(uploaded.query.sha256, options()));
    expect([gone.kind, gone.code]).to.deep.equal(['gone', 'upload_expired']);
  });

  it('refuses queries when the index was built with another model than the loaded one', async () => {
    const baseline = await Embedder.open({ model: 'baseline', device: 'cpu' });
    try {
      const other = new SearchService(reader, baseline);
      const err = await refusal(other.byId(index.idOf.get(index.files[0])!, options()));
      expect(err.code).to.equal('model_mismatch');
      expect(err.message).to.match(/re-run the ingest/);
    } finally {
      await baseline.close();
    }
  });
});
