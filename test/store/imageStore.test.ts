import { expect } from 'chai';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImageStore, type NewImage } from '../../src/store/imageStore.js';
import { indexLayout } from '../../src/store/indexLayout.js';
import { SCHEMA_VERSION } from '../../src/store/migrations.js';
import { embedCoco } from '../helpers/cocoVectors.js';

describe('ImageStore (SQLite)', () => {
  let dir: string;
  let files: string[];
  let vectors: Float32Array[];
  let modelVersion: string;

  before(async () => ({ files, vectors, modelVersion } = await embedCoco(6)));
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'lipsearch-store-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function imageOf(i: number): NewImage {
    const st = statSync(files[i]);
    return { sha256: `sha-${i}`, width: 640, height: 480, bytes: st.size, format: 'jpeg', mtimeMs: st.mtimeMs };
  }

  /** Stores image i under its own path (plus `extraPaths`) with its real embedding. */
  function addImage(store: ImageStore, i: number, extraPaths: string[] = []): number {
    return store.transaction(() => {
      const id = store.insertImage(imageOf(i));
      for (const p of [files[i], ...extraPaths]) store.putPath(p, id, 1, 2);
      store.setVector(id, vectors[i]);
      return id;
    });
  }

  it('creates the schema at the current version and pins the model in meta', () => {
    const store = ImageStore.open(dir);
    expect(store.getMeta()).to.equal(undefined);
    store.setMeta({ modelName: 'lipsim', modelVersion, dim: vectors[0].length, space: 'cosine', decoder: 'reduce-448' });
    store.close();
    const reopened = ImageStore.open(dir);
    expect(reopened.getMeta()).to.deep.equal({
      modelName: 'lipsim', modelVersion, dim: vectors[0].length, space: 'cosine', decoder: 'reduce-448',
      schemaVersion: SCHEMA_VERSION,
    });
    reopened.close();
  });

  it('stores images with all their paths (first seen first) and their exact vectors', () => {
    const store = ImageStore.open(dir);
    const a = addImage(store, 0, ['/elsewhere/copy.jpg']);
    const b = addImage(store, 1);
    expect(store.count()).to.equal(2);
    const record = store.getImage(a)!;
    expect(record.paths).to.deep.equal([files[0], '/elsewhere/copy.jpg']);
    expect(record).to.include({ sha256: 'sha-0', width: 640, height: 480, format: 'jpeg' });
    expect(Date.parse(record.addedAt)).to.be.a('number').and.not.NaN;
    expect(store.getVector(a)).to.deep.equal(vectors[0]);
    expect(store.getImages([b, 999, a]).map((r) => r.id)).to.deep.equal([b, a]);
    const map = store.getVectors([a, b, 999]);
    expect([...map.keys()].sort()).to.deep.equal([a, b].sort());
    expect(map.get(b)).to.deep.equal(vectors[1]);
    expect(store.findByPath('/elsewhere/copy.jpg')?.id).to.equal(a);
    expect(store.findBySha('sha-1')?.id).to.equal(b);
    expect(store.findByPath('/nowhere.jpg')).to.equal(undefined);
    store.close();
  });

  it('scans vectors in id order, streamed or packed, and pages images by id', () => {
    const store = ImageStore.open(dir);
    store.setMeta({ modelName: 'lipsim', modelVersion, dim: vectors[0].length, space: 'cosine', decoder: null });
    const ids = [0, 1, 2, 3, 4].map((i) => addImage(store, i));
    const streamed: number[] = [];
    store.forEachVector((id, v) => {
      streamed.push(id);
      expect(v).to.deep.equal(vectors[ids.indexOf(id)]);
    });
    expect(streamed).to.deep.equal(ids);
    const packed = store.allVectors();
    expect(packed.ids).to.deep.equal(ids);
    expect(packed.vectors.length).to.equal(ids.length * packed.dim);
    expect(packed.vectors.subarray(2 * packed.dim, 3 * packed.dim)).to.deep.equal(vectors[2]);
    expect(store.listImages(1, 2).map((r) => r.id)).to.deep.equal(ids.slice(1, 3));
    expect(store.vectorIds()).to.deep.equal(ids);
    store.close();
  });

  it('deletes images left without paths, and never reuses their ids', () => {
    const store = ImageStore.open(dir);
    const a = addImage(store, 0, ['/copy.jpg']);
    const b = addImage(store, 1);
    store.removePath('/copy.jpg');
    expect(store.removeOrphans()).to.deep.equal([]);
    expect(store.getImage(a)?.paths).to.deep.equal([files[0]]);
    store.removePath(files[0]);
    expect(store.getImage(a)?.paths).to.deep.equal([]); // kept until orphans are removed
    expect(store.removeOrphans()).to.deep.equal([{ id: a, sha256: 'sha-0' }]);
    expect(store.getImage(a)).to.equal(undefined);
    expect(store.getVector(a)).to.equal(undefined);
    expect(store.getImage(b)?.paths).to.deep.equal([files[1]]);
    const c = addImage(store, 0);
    expect(c).to.be.greaterThan(b);
    store.close();
  });

  it('tracks path state for incremental runs and the latest error per path', () => {
    const store = ImageStore.open(dir);
    const id = store.transaction(() => {
      const id = store.insertImage(imageOf(0));
      store.putPath(files[0], id, 123, 456.5);
      return id;
    });
    expect(store.pathState(files[0])).to.deep.equal({ imageId: id, size: 123, mtimeMs: 456.5, embedded: false });
    store.setVector(id, vectors[0]);
    expect(store.pathState(files[0])?.embedded).to.equal(true);
    expect(store.shaState('sha-0')).to.deep.equal({ imageId: id, embedded: true });
    expect(store.vectorCount()).to.equal(1);
    store.recordError('/bad.jpg', 'first reason');
    store.recordError('/bad.jpg', 'second reason');
    store.recordError('/other.jpg', 'unreadable');
    const errors = store.listErrors(10).sort((a, b) => a.path.localeCompare(b.path));
    expect(errors.map((e) => [e.path, e.reason])).to.deep.equal([['/bad.jpg', 'second reason'], ['/other.jpg', 'unreadable']]);
    expect(store.countErrors()).to.equal(2);
    store.clearError('/bad.jpg');
    expect(store.listErrors(10).map((e) => e.path)).to.deep.equal(['/other.jpg']);
    store.clearVectors();
    expect(store.pathState(files[0])?.embedded).to.equal(false);
    expect(store.shaState('sha-0')).to.deep.equal({ imageId: id, embedded: false });
    store.close();
  });

  it('lets a read-only reader read a consistent snapshot while the writer is mid-transaction', () => {
    const writer = ImageStore.open(dir);
    addImage(writer, 0);
    const reader = ImageStore.open(dir, { readonly: true });
    writer.transaction(() => {
      writer.insertImage(imageOf(1));
      expect(reader.count()).to.equal(1); // uncommitted rows are invisible, and the reader is not blocked
    });
    expect(reader.count()).to.equal(2);
    expect(() => reader.recordError('/x', 'y')).to.throw(/readonly/i);
    reader.close();
    writer.close();
  });

  it('refuses a missing index read-only, and a schema newer than this program', () => {
    expect(() => ImageStore.open(join(dir, 'missing'), { readonly: true })).to.throw();
    ImageStore.open(dir).close();
    const db = new Database(indexLayout(dir).database);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => ImageStore.open(dir)).to.throw(/newer/);
  });
});
