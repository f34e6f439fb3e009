import { expect } from 'chai';
import { BaselineCorpus, type BaselineCorpusProgress, rankExactly } from '../../src/compare/baselineCorpus.js';
import { Embedder } from '../../src/model/embedder.js';
import { loadModelInput } from '../../src/model/preprocess.js';
import type { ImageRecord } from '../../src/store/types.js';
import { cocoFiles } from '../helpers/cocoVectors.js';
import { sha256File } from '../helpers/tempFolders.js';

describe('compare/BaselineCorpus (the corpus embedded with the baseline, on demand)', () => {
  let embedder: Embedder;
  let records: ImageRecord[];
  const loads: string[] = [];
  const missing = new Set<string>();

  /** Loads a corpus image's model input from its file; records every load, and fails for `missing` paths. */
  const loadInput = async (record: ImageRecord) => {
    loads.push(record.paths[0]);
    if (missing.has(record.paths[0])) throw new Error('file moved');
    return (await loadModelInput(record.paths[0])).pixels;
  };

  before(async () => {
    embedder = await Embedder.open({ model: 'baseline', device: 'cpu', threads: 1 });
    records = cocoFiles(10).map((path, i) => ({
      id: 100 + i,
      sha256: sha256File(path),
      paths: [path],
      width: 0,
      height: 0,
      bytes: 0,
      format: 'jpeg',
      mtimeMs: 0,
      addedAt: new Date(0).toISOString(),
    }));
  });
  after(() => embedder.close());

  it('embeds every image once with the baseline, keeps the vectors, and ranks each image first for itself', async () => {
    const corpus = new BaselineCorpus(embedder, loadInput);
    const progress: number[] = [];
    const { matrix, unavailable } = await corpus.matrix(records, (p) => progress.push(p.embedded));
    expect(unavailable).to.equal(0);
    expect([...matrix.ids]).to.deep.equal(records.map((r) => r.id));
    expect(progress.at(-1)).to.equal(records.length);
    expect(loads).to.have.length(records.length);

    const [direct] = await embedder.embed([(await loadModelInput(records[3].paths[0])).pixels]);
    const row = matrix.vector(records[3].id)!;
    expect(Math.max(...row.map((v, i) => Math.abs(v - direct[i])))).to.be.below(1e-5);
    for (const record of records) {
      const { nearest } = rankExactly(matrix, matrix.vector(record.id)!, 3);
      expect(nearest[0].id).to.equal(record.id);
      expect(nearest[0].distance).to.be.below(1e-5);
    }

    loads.length = 0;
    await corpus.matrix(records);
    expect(loads).to.deep.equal([]); // cached by content
  });

  it('counts unreadable files as unavailable and tries them again; forgets images that left the corpus', async () => {
    const corpus = new BaselineCorpus(embedder, loadInput);
    missing.add(records[2].paths[0]);
    const first = await corpus.matrix(records);
    expect(first.unavailable).to.equal(1);
    expect(first.matrix.vector(records[2].id)).to.equal(undefined);

    missing.clear();
    loads.length = 0;
    const second = await corpus.matrix(records);
    expect(loads).to.deep.equal([records[2].paths[0]]);
    expect(second.unavailable).to.equal(0);

    const fewer = await corpus.matrix(records.slice(5));
    expect(fewer.matrix.size).to.equal(5);
    loads.length = 0;
    await corpus.matrix(records);
    expect(loads).to.have.length(5); // the forgotten five are embedded again
  });

  it('two callers at once embed each image only once', async () => {
    const corpus = new BaselineCorpus(embedder, loadInput);
    loads.length = 0;
    const [a, b] = await Promise.all([corpus.matrix(records.slice(0, 4)), corpus.matrix(records.slice(0, 4))]);
    expect(loads).to.have.length(4);
    expect(a.matrix.size).to.equal(4);
    expect(b.matrix.size).to.equal(4);
  });

  it('shows a caller waiting behind another embedding (the one started with the server) its progress', async () => {
    const corpus = new BaselineCorpus(embedder, loadInput);
    const first = corpus.matrix(records);
    const seen: BaselineCorpusProgress[] = [];
    const second = corpus.matrix(records, (p) => seen.push(p));
    await Promise.all([first, second]);
    expect(seen).to.deep.equal([
      { embedded: 0, total: 10 },
      { embedded: 8, total: 10 },
      { embedded: 10, total: 10 },
    ]);
    expect(corpus.progress).to.equal(null);
    expect(corpus.size).to.equal(records.length);
  });

  it('stops embedding after the current batch when closed', async () => {
    const own = await Embedder.open({ model: 'baseline', device: 'cpu', threads: 1 });
    const corpus = new BaselineCorpus(own, loadInput);
    let closing: Promise<void> | undefined;
    const { matrix } = await corpus.matrix(records, (p) => {
      if (p.embedded === 0) closing = corpus.close();
    });
    await closing;
    expect(matrix.size).to.equal(8); // the first batch of 8, not the last 2
    expect(corpus.progress).to.equal(null);
  });
});
