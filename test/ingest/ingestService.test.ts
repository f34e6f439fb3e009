import Database from 'better-sqlite3';
import { expect } from 'chai';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { PHONE_HEIGHT, PHONE_WIDTH, writePhonePhotos } from '../../src/bench/phonePhotos.js';
import { HnswIndex } from '../../src/index/hnswIndex.js';
import { type IngestOptions, ModelMismatchError, ingest } from '../../src/ingest/ingestService.js';
import { Embedder } from '../../src/model/embedder.js';
import { DECODER, decodeImage, loadModelInput } from '../../src/model/preprocess.js';
import { ImageStore } from '../../src/store/imageStore.js';
import { hnswPath, indexLayout, thumbnailPath } from '../../src/store/indexLayout.js';
import { cocoFiles } from '../helpers/cocoVectors.js';
import { pngBomb } from '../helpers/hostileFiles.js';
import { writerLockIsFree } from '../helpers/ingestCli.js';
import { copyCoco, sha256File, tempDir } from '../helpers/tempFolders.js';

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

describe('ingest service (real images, real model, SQLite + HNSW in a temp dir)', () => {
  let root: string;
  let photos: string;
  let indexDir: string;
  let embedder: Embedder;

  const run = (extra: Partial<IngestOptions> = {}) =>
    ingest({ paths: [photos], indexDir, batchSize: 4, device: 'cpu', decoders: 2, ...extra });

  function withStore<T>(fn: (store: ImageStore) => T): T {
    const store = ImageStore.open(indexDir, { readonly: true });
    try {
      return fn(store);
    } finally {
      store.close();
    }
  }

  async function openHnsw(): Promise<HnswIndex> {
    const meta = withStore((s) => s.getMeta()!);
    return HnswIndex.open(hnswPath(indexDir, meta.modelVersion), meta.dim);
  }

  async function embedFile(path: string): Promise<Float32Array> {
    return (await embedder.embed([(await loadModelInput(path)).pixels]))[0];
  }

  before(async () => (embedder = await Embedder.open({ device: 'cpu' })));
  after(async () => embedder.close());
  beforeEach(() => {
    root = tempDir('ingest');
    photos = join(root, 'photos');
    indexDir = join(root, 'index');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('ingests a folder tree: one record per file with its exact vector, an HNSW that finds it, a thumbnail', async () => {
    const files = [...copyCoco(photos, 10), ...copyCoco(join(photos, 'nested', 'deeper'), 2, 10)];
    writeFileSync(join(photos, 'README.txt'), 'not a photo');
    const summary = await run();
    expect(summary).to.include({ found: 12, skipped: 1, added: 12, embedded: 12, failed: 0, images: 12, device: 'cpu' });
    expect(summary.embedBatches).to.equal(3);
    expect(summary.imagesPerSecond).to.be.greaterThan(0);
    expect(writerLockIsFree(indexDir)).to.equal(true);

    const index = await openHnsw();
    expect(index.size()).to.equal(12);
    const store = ImageStore.open(indexDir, { readonly: true });
    try {
      expect(store.getMeta()).to.include({ modelVersion: embedder.card.version, dim: embedder.dim, space: 'cosine', decoder: DECODER });
      for (const file of files) {
        const image = store.findByPath(file)!;
        expect(image.sha256).to.equal(sha256File(file));
        expect(image.paths).to.deep.equal([file]);
        const decoded = await decodeImage(file);
        expect(image).to.include({ ...decoded.photo, format: 'jpeg', bytes: readFileSync(file).length });
        const stored = store.getVector(image.id)!;
        const fresh = await embedFile(file);
        for (let j = 0; j < fresh.length; j++) expect(stored[j]).to.be.closeTo(fresh[j], 1e-5);
        const hit = index.search(stored, 1)[0];
        expect(hit.id).to.equal(image.id);
        expect(hit.distance).to.be.closeTo(1 - dot(stored, stored), 1e-5);
        const thumb = await sharp(thumbnailPath(indexDir, image.sha256)).metadata();
        expect(thumb.format).to.equal('webp');
        expect(Math.max(thumb.width!, thumb.height!)).to.equal(Math.min(256, Math.max(decoded.width, decoded.height)));
      }
    } finally {
      store.close();
    }
  });

  it('re-runs over an unchanged folder without reading a file or loading the model', async () => {
    const files = copyCoco(photos, 8);
    await run();
    const again = await run();
    expect(again).to.include({ found: 8, unchanged: 8, added: 0, embedded: 0, device: null });
    // A touched file (new mtime, same bytes) is hashed, found to be known content, and still not embedded.
    utimesSync(files[3], new Date(), new Date(Date.now() + 5000));
    const touched = await run();
    expect(touched).to.include({ unchanged: 8, updated: 0, embedded: 0, device: null });
    expect(withStore((s) => s.count())).to.equal(8);
  });

  it('embeds the same content once and keeps every path it was found under', async () => {
    const files = copyCoco(photos, 6);
    const copy = join(photos, 'copy-of-first.jpg');
    copyFileSync(files[0], copy);
    const first = await run();
    expect(first).to.include({ found: 7, added: 6, duplicates: 1, embedded: 6, images: 6 });
    const later = join(photos, 'later-copy.jpg');
    copyFileSync(files[0], later);
    const second = await run();
    expect(second).to.include({ duplicates: 1, embedded: 0, images: 6 });
    withStore((store) => {
      const image = store.findByPath(files[0])!;
      expect(store.findByPath(copy)?.id).to.equal(image.id);
      expect([...image.paths].sort()).to.deep.equal([copy, files[0], later].sort());
    });
    expect((await openHnsw()).size()).to.equal(6);
  });

  it('re-embeds a changed file, and content no path shows any more leaves the index with its thumbnail', async () => {
    const files = copyCoco(photos, 6);
    await run();
    const before = withStore((s) => s.findByPath(files[0])!);
    copyFileSync(cocoFiles(60)[59], files[0]); // new content under the same name
    const summary = await run();
    expect(summary).to.include({ updated: 1, unchanged: 5, embedded: 1, images: 6 });
    const after = withStore((s) => s.findByPath(files[0])!);
    expect(after.sha256).to.equal(sha256File(files[0]));
    expect(withStore((s) => s.findBySha(before.sha256))).to.equal(undefined);
    expect(existsSync(thumbnailPath(indexDir, before.sha256))).to.equal(false);
    const index = await openHnsw();
    expect(index.has(before.id)).to.equal(false);
    expect(index.search(await embedFile(files[0]), 1)[0].id).to.equal(after.id);
  });

  it('reports files that are gone as missing, and removes them with --prune', async () => {
    const files = copyCoco(photos, 8);
    copyFileSync(files[1], join(photos, 'second-name.jpg'));
    await run();
    const gone = withStore((s) => [files[0], files[1]].map((f) => s.findByPath(f)!));
    rmSync(files[0]);
    rmSync(files[1]); // its content lives on under second-name.jpg
    const kept = await run();
    expect(kept).to.include({ missing: 2, pruned: 0, images: 8 });
    const pruned = await run({ prune: true });
    expect(pruned).to.include({ pruned: 2, missing: 0, images: 7, embedded: 0 });
    const index = await openHnsw();
    expect(index.size()).to.equal(7);
    expect(index.has(gone[0].id)).to.equal(false);
    expect(index.has(gone[1].id)).to.equal(true);
    expect(existsSync(thumbnailPath(indexDir, gone[0].sha256))).to.equal(false);
    withStore((s) => expect(s.findBySha(gone[1].sha256)?.paths).to.deep.equal([join(photos, 'second-name.jpg')]));
  });

  it('refuses an index built by another model, and --reindex re-embeds every image', async () => {
    copyCoco(photos, 6);
    await run();
    const vectorsBefore = withStore((s) => s.allVectors());
    const otherVersion = 'f'.repeat(64);
    const store = ImageStore.open(indexDir);
    store.setMeta({ modelName: 'lipsim', modelVersion: otherVersion, dim: embedder.dim, space: 'cosine', decoder: null });
    store.close();
    writeFileSync(hnswPath(indexDir, otherVersion), 'the other model’s graph');

    let refusal: unknown;
    await run().catch((err) => (refusal = err));
    expect(refusal).to.be.instanceOf(ModelMismatchError);
    expect((refusal as Error).message).to.match(/--reindex/).and.match(/ffffffffffff/);
    expect(withStore((s) => s.vectorCount())).to.equal(6); // nothing touched

    const reindexed = await run({ reindex: true });
    expect(reindexed).to.include({ reembedded: 6, embedded: 6, images: 6, awaitingEmbedding: 0 });
    expect(withStore((s) => s.getMeta()!.modelVersion)).to.equal(embedder.card.version);
    const vectorsAfter = withStore((s) => s.allVectors());
    expect(vectorsAfter.ids).to.deep.equal(vectorsBefore.ids);
    vectorsAfter.vectors.forEach((v, i) => expect(v).to.be.closeTo(vectorsBefore.vectors[i], 1e-5));
    expect(existsSync(hnswPath(indexDir, otherVersion))).to.equal(false);
    expect((await openHnsw()).size()).to.equal(6);
  });

  it('re-embeds only the photos that reduced decoding changes when the index predates it', async () => {
    const coco = copyCoco(photos, 3);
    const [phone] = await writePhonePhotos(cocoFiles(1), photos);
    await run();
    const store = ImageStore.open(indexDir);
    const phoneId = store.findByPath(phone!)!.id;
    const cocoVectors = coco.map((file) => store.getVector(store.findByPath(file)!.id)!);
    // An index written before decoders were recorded: no decoder key, and the phone photo's vector from another decoding.
    const stale = new Float32Array(embedder.dim).fill(1 / Math.sqrt(embedder.dim));
    store.setVector(phoneId, stale);
    store.close();
    const sqlite = new Database(indexLayout(indexDir).database);
    sqlite.prepare("DELETE FROM meta WHERE key = 'decoder'").run();
    sqlite.close();
    expect(withStore((s) => s.getMeta()!.decoder)).to.equal(null);

    const summary = await run();
    expect(summary).to.include({ reembedded: 1, embedded: 1, awaitingEmbedding: 0 });
    withStore((s) => {
      expect(s.getMeta()!.decoder).to.equal(DECODER);
      const vector = s.getVector(phoneId)!;
      expect(Array.from(vector)).to.not.deep.equal(Array.from(stale));
      coco.forEach((file, i) => expect(Array.from(s.getVector(s.findByPath(file)!.id)!)).to.deep.equal(Array.from(cocoVectors[i]!)));
    });
    const fresh = await embedFile(phone!);
    const stored = withStore((s) => s.getVector(phoneId)!);
    for (let j = 0; j < fresh.length; j++) expect(stored[j]).to.be.closeTo(fresh[j]!, 1e-5);
    expect(withStore((s) => s.findByPath(phone!)!)).to.include({ width: PHONE_WIDTH, height: PHONE_HEIGHT });
  });

  it('reports broken files with a reason, never stops, and retries them once fixed', async () => {
    const good = copyCoco(photos, 3);
    const jpeg = readFileSync(good[0]);
    writeFileSync(join(photos, 'empty.jpg'), '');
    writeFileSync(join(photos, 'truncated.jpg'), jpeg.subarray(0, jpeg.length / 2));
    writeFileSync(join(photos, 'notes.jpg'), 'this is a text file, not a photo');
    writeFileSync(join(photos, 'bomb.png'), pngBomb(50_000, 50_000));
    symlinkSync(join(root, 'nowhere.jpg'), join(photos, 'dangling.jpg'));
    writeFileSync(join(photos, 'notes.txt'), 'skipped quietly');

    const summary = await run();
    expect(summary).to.include({ added: 3, failed: 5, skipped: 1, images: 3 });
    const reasons = Object.fromEntries(summary.errors.map((e) => [e.path.slice(photos.length + 1), e.reason]));
    expect(reasons['empty.jpg']).to.match(/empty/);
    expect(reasons['truncated.jpg']).to.match(/premature end/i);
    expect(reasons['notes.jpg']).to.match(/unsupported image format/);
    expect(reasons['bomb.png']).to.match(/pixel limit/);
    expect(reasons['dangling.jpg']).to.match(/broken symbolic link/);
    expect(withStore((s) => s.listErrors(100).length)).to.equal(5);

    copyFileSync(cocoFiles(40)[39], join(photos, 'truncated.jpg')); // the user fixes one file
    const again = await run();
    expect(again).to.include({ added: 1, failed: 4, unchanged: 3, images: 4 });
    expect(withStore((s) => s.listErrors(100).map((e) => e.path))).to.not.include(join(photos, 'truncated.jpg'));
  });

  it('takes PNG, WebP, GIF, TIFF and AVIF as well as JPEG', async () => {
    const source = cocoFiles(1)[0];
    mkdirSync(photos);
    const encoders = {
      png: (s: sharp.Sharp) => s.png(),
      webp: (s: sharp.Sharp) => s.webp(),
      gif: (s: sharp.Sharp) => s.gif(),
      tiff: (s: sharp.Sharp) => s.tiff(),
      avif: (s: sharp.Sharp) => s.avif(),
    };
    for (const [ext, encode] of Object.entries(encoders)) {
      await encode(sharp(source).resize(160)).toFile(join(photos, `photo.${ext}`));
    }
    const summary = await run();
    expect(summary).to.include({ found: 5, added: 5, failed: 0 });
    const formats = withStore((s) => s.listImages(0, 10).map((r) => r.format)).sort();
    expect(formats).to.deep.equal(['gif', 'heif', 'png', 'tiff', 'webp']); // sharp calls AVIF's container heif
  });

  it('stops feeding on abort, keeps what was committed, and the next run finishes', async () => {
    copyCoco(photos, 16);
    const controller = new AbortController();
    const partial = await run({
      onProgress: (e) => {
        if (e.phase === 'embedding' && e.done >= 4) controller.abort();
      },
      signal: controller.signal,
    });
    expect(partial.interrupted).to.equal(true);
    expect(partial.images).to.be.within(4, 15);
    const rest = await run();
    expect(rest).to.include({ interrupted: false, images: 16, added: 16 - partial.images, unchanged: partial.images });
  });

  it('rebuilds a lost HNSW file from SQLite on open, without the model', async () => {
    copyCoco(photos, 6);
    await run();
    const meta = withStore((s) => s.getMeta()!);
    rmSync(hnswPath(indexDir, meta.modelVersion));
    const summary = await run();
    expect(summary.repaired).to.deep.equal({ added: 6, removed: 0, rebuilt: true });
    expect(summary).to.include({ embedded: 0, device: null });
    expect((await openHnsw()).size()).to.equal(6);
  });
});
