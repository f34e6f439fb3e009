import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HnswIndex, type VectorSource } from '../../src/index/hnswIndex.js';
import { SqliteRepository } from '../../src/store/sqliteRepository.js';
import { embedCoco } from '../helpers/cocoVectors.js';

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

describe('HnswIndex (hnswlib, cosine)', () => {
  let dir: string;
  let vectors: Float32Array[];
  let dim: number;

  before(async () => {
    ({ vectors } = await embedCoco(40));
    dim = vectors[0].length;
  });
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'lipsearch-hnsw-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function filled(path = join(dir, 'v.hnsw')): HnswIndex {
    const index = HnswIndex.create(path, dim, { m: 8, efConstruction: 100 });
    vectors.forEach((v, i) => index.add(i + 1, v));
    return index;
  }

  /** A store holding image i's real vector under id i + 1, for every i in `which`. */
  function storeWith(which: number[]): SqliteRepository {
    const repository = SqliteRepository.open(join(dir, 'store'));
    const store = repository.store;
    store.transaction(() => {
      for (const i of which) {
        const id = store.insertImage({ sha256: `s${i}`, width: 1, height: 1, bytes: 1, format: 'jpeg', mtimeMs: 0 });
        expect(id).to.equal(i + 1);
        store.setVector(id, vectors[i]);
      }
    });
    return repository;
  }

  it('finds each photo first at distance ≈ 0, with distance = 1 − cos, in exact order', () => {
    const index = filled();
    expect(index.size()).to.equal(vectors.length);
    vectors.forEach((q, i) => {
      const hits = index.search(q, 5);
      expect(hits[0].id).to.equal(i + 1);
      expect(hits[0].distance).to.be.closeTo(0, 1e-5);
      for (const hit of hits) expect(hit.distance).to.be.closeTo(1 - dot(q, vectors[hit.id - 1]), 1e-5);
      const exact = vectors.map((v, j) => ({ id: j + 1, d: 1 - dot(q, v) })).sort((a, b) => a.d - b.d);
      // 40 points with ef ≥ 40 is an exhaustive search: the approximate answer is the exact one.
      expect(index.search(q, 5, 64).map((h) => h.id)).to.deep.equal(exact.slice(0, 5).map((e) => e.id));
    });
  });

  it('removes labels, re-adds them, and never returns more than it holds', () => {
    const index = filled();
    index.remove(1);
    index.remove(1); // removing twice is harmless
    expect(index.has(1)).to.equal(false);
    expect(index.size()).to.equal(vectors.length - 1);
    const all = index.search(vectors[0], 100).map((h) => h.id);
    expect(all).to.have.length(vectors.length - 1);
    expect(all).to.not.include(1);
    index.add(1, vectors[0]);
    expect(index.search(vectors[0], 1)[0]).to.include({ id: 1 });
    expect(HnswIndex.create(join(dir, 'e.hnsw'), dim).search(vectors[0], 3)).to.deep.equal([]);
  });

  it('grows past its initial capacity', () => {
    const index = HnswIndex.create(join(dir, 'big.hnsw'), dim, { m: 4, efConstruction: 20 });
    // 1500 distinct unit vectors from the real embeddings: v_i rotated into a different coordinate order.
    for (let n = 0; n < 1500; n++) {
      const base = vectors[n % vectors.length];
      const shift = Math.floor(n / vectors.length) + 1;
      const v = new Float32Array(dim);
      for (let j = 0; j < dim; j++) v[j] = base[(j + shift) % dim];
      index.add(n + 1, v);
    }
    expect(index.size()).to.equal(1500);
    expect(index.search(vectors[7], 1)[0].distance).to.be.at.least(-1e-5);
  });

  it('saves atomically and reopens with the same answers and the same removed labels', async () => {
    const path = join(dir, 'v.hnsw');
    const index = filled(path);
    index.remove(3);
    await index.save();
    expect(readdirSync(dir)).to.deep.equal(['v.hnsw']); // no temp file left behind
    const reopened = await HnswIndex.open(path, dim);
    expect(reopened.size()).to.equal(vectors.length - 1);
    expect(reopened.has(3)).to.equal(false);
    for (const q of vectors.slice(0, 10)) expect(reopened.search(q, 5)).to.deep.equal(index.search(q, 5));
    expect(() => index.add(99, new Float32Array(dim - 1))).to.throw(RangeError);
  });

  it('refuses changes while a save is in flight (hnswlib writes from another thread)', async () => {
    const index = filled();
    const saving = index.save();
    expect(() => index.add(100, vectors[0])).to.throw(/being saved/);
    await saving;
    index.add(100, vectors[0]);
    expect(index.has(100)).to.equal(true);
  });

  it('reconciles a stale file with the store: adds missing vectors, removes labels the store lacks', async () => {
    const path = join(dir, 'v.hnsw');
    const stale = HnswIndex.create(path, dim);
    for (const i of [0, 1, 2, 3]) stale.add(i + 1, vectors[i]);
    stale.add(500, vectors[9]); // a label the store never committed (crash between HNSW save and DB commit)
    await stale.save();
    const store = storeWith([0, 1, 2, 3, 4, 5, 6, 7]);
    const { index, report } = await HnswIndex.openReconciled(store, path, dim);
    expect(report).to.deep.equal({ added: 4, removed: 1, rebuilt: false });
    expect(index.ids().sort((a, b) => a - b)).to.deep.equal(await store.vectorIds());
    expect(index.search(vectors[6], 1)[0].id).to.equal(7);
    await store.close();
  });

  it('rebuilds from the store when the file is missing or unreadable', async () => {
    const store = storeWith([0, 1, 2, 3, 4]);
    const path = join(dir, 'v.hnsw');
    const fromNothing = await HnswIndex.openReconciled(store, path, dim);
    expect(fromNothing.report).to.deep.equal({ added: 5, removed: 0, rebuilt: true });
    writeFileSync(path, 'not an hnsw file');
    const fromGarbage = await HnswIndex.openReconciled(store, path, dim);
    expect(fromGarbage.report.rebuilt).to.equal(true);
    expect(fromGarbage.index.ids().sort((a, b) => a - b)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(existsSync(path)).to.equal(true); // reconciling writes nothing; the caller saves
    await store.close();
  });

  it('rebuilds when most of the graph is tombstones', async () => {
    const path = join(dir, 'v.hnsw');
    await filled(path).save();
    const source: VectorSource = storeWith([0, 1, 2]);
    const { index, report } = await HnswIndex.openReconciled(source, path, dim);
    expect(report.rebuilt).to.equal(true);
    expect(index.size()).to.equal(3);
  });
});
