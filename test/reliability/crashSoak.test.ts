import { expect } from 'chai';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, watch, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import sharp from 'sharp';
import { HnswIndex } from '../../src/index/hnswIndex.js';
import type { IngestSummary } from '../../src/ingest/ingestService.js';
import { Embedder } from '../../src/model/embedder.js';
import { loadModelInput } from '../../src/model/preprocess.js';
import { IndexReader } from '../../src/search/indexReader.js';
import { SearchService } from '../../src/search/searchService.js';
import { ImageStore } from '../../src/store/imageStore.js';
import { hnswPath, indexLayout } from '../../src/store/indexLayout.js';
import { seededRandom } from '../../src/util/random.js';
import { cocoFiles } from '../helpers/cocoVectors.js';
import { cliExited, committedImages, spawnIngestCli, writerLockIsFree } from '../helpers/ingestCli.js';
import { copyCoco, sha256File, tempDir } from '../helpers/tempFolders.js';

/** Kill-and-restart rounds; `npm run test:soak` runs 20. */
const ROUNDS = Number(process.env.LIPSEARCH_SOAK_ROUNDS ?? 10);
const SEED = Number(process.env.LIPSEARCH_SOAK_SEED ?? Date.now() % 1_000_000);
function spawnIngest(photos: string, indexDir: string) {
  return spawnIngestCli([photos, '--index', indexDir, '--batch', '4', '--device', 'cpu', '--json']);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A photo folder of every COCO image, mirrored versions of some (new content), copies under other names, and broken files. */
async function soakCorpus(photos: string): Promise<{ readable: Map<string, string>; broken: string[] }> {
  const files = copyCoco(photos, cocoFiles(1_000).length);
  await Promise.all(files.slice(0, 66).map((file) => sharp(file).flop().jpeg().toFile(join(photos, `mirrored-${basename(file)}`))));
  for (const file of files.slice(0, 10)) copyFileSync(file, join(photos, `copy-${basename(file)}`));
  const jpeg = readFileSync(files[0]);
  const broken = [
    ['truncated.jpg', jpeg.subarray(0, 2000)],
    ['empty.jpg', Buffer.alloc(0)],
    ['text.png', Buffer.from('not an image')],
  ].map(([name, bytes]) => {
    writeFileSync(join(photos, name as string), bytes);
    return join(photos, name as string);
  });
  const readable = new Map(readdirSync(photos).filter((n) => !broken.includes(join(photos, n))).map((n) => [join(photos, n), sha256File(join(photos, n))]));
  return { readable, broken };
}

/**
 * The invariants of a finished index: exactly the readable files' content, once each, every path mapped to its
 * content, every HNSW label a stored image with its own vector and back, and searches that find each image first.
 */
async function checkIndex(indexDir: string, readable: ReadonlyMap<string, string>, broken: readonly string[], embedder: Embedder): Promise<void> {
  const store = ImageStore.open(indexDir, { readonly: true });
  try {
    const records = store.listImages(0, 1_000_000);
    const shas = records.map((r) => r.sha256);
    expect(new Set(shas).size, 'duplicate images').to.equal(shas.length);
    expect([...shas].sort()).to.deep.equal([...new Set(readable.values())].sort());
    for (const [path, sha] of readable) expect(store.findByPath(path)?.sha256, path).to.equal(sha);
    expect(store.allPaths().sort()).to.deep.equal([...readable.keys()].sort());
    expect(store.listErrors(100).map((e) => e.path).sort()).to.deep.equal([...broken].sort());
    expect(store.vectorCount()).to.equal(records.length);

    const meta = store.getMeta()!;
    const hnsw = await HnswIndex.open(hnswPath(indexDir, meta.modelVersion), meta.dim);
    expect(hnsw.ids().sort((a, b) => a - b)).to.deep.equal(store.vectorIds());
    store.forEachVector((id, vector) => {
      const [hit] = hnsw.search(vector, 1);
      expect(hit.id, `HNSW label ${hit.id} answers for image ${id}`).to.equal(id);
      expect(hit.distance).to.be.below(1e-4);
    });
    // Stored vectors are the model's vectors of the files (no vector under another image's id).
    const sample = records.filter((_, i) => i % 25 === 0);
    const fresh = await embedder.embed(await Promise.all(sample.map(async (r) => (await loadModelInput(r.paths[0])).pixels)));
    sample.forEach((r, i) => store.getVector(r.id)!.forEach((v, j) => expect(v, r.paths[0]).to.be.closeTo(fresh[i][j], 1e-4)));
  } finally {
    store.close();
  }
  // The query engine, as the server runs it, finds each sampled image first.
  const reader = await IndexReader.open(indexDir);
  try {
    const search = new SearchService(reader, embedder);
    const ids = await reader.store.vectorIds();
    for (const id of ids.filter((_, i) => i % 20 === 0)) {
      const result = await search.byId(id, { k: 3, offset: 0, epsilon: 0, copyCheck: false });
      expect(result.hits[0].id).to.equal(id);
      expect(result.hits[0].distance).to.be.below(1e-4);
    }
  } finally {
    await reader.close();
  }
  expect(readdirSync(indexDir).filter((n) => n.endsWith('.tmp'))).to.deep.equal([]);
  expect(readdirSync(indexLayout(indexDir).thumbnails).filter((n) => n.endsWith('.tmp'))).to.deep.equal([]);
  expect(writerLockIsFree(indexDir)).to.equal(true);
}

describe(`crash safety soak (issue 8): SIGKILL at random points, ${ROUNDS} rounds, seed ${SEED}`, () => {
  let root: string;
  let embedder: Embedder;
  before(async () => {
    root = tempDir('soak');
    embedder = await Embedder.open({ device: 'cpu' });
  });
  after(async () => {
    await embedder.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('after every kill the restarted ingest finishes the job: the index equals the readable files', async () => {
    const photos = join(root, 'photos');
    const indexDir = join(root, 'index');
    const { readable, broken } = await soakCorpus(photos);
    const total = new Set(readable.values()).size;
    const rng = seededRandom(SEED);
    const kills: string[] = [];
    let killedMidIngest = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const before = committedImages(indexDir);
      const child = spawnIngest(photos, indexDir);
      const outcome = cliExited(child);
      let done = false;
      void outcome.then(() => (done = true));
      if (rng() < 0.3) {
        // Anywhere from start-up (lock, SQLite open, repair, model load) to the first batches.
        await sleep(rng() * 1500);
      } else {
        // Mid-ingest: a random number of further commits, spread so the job lasts all rounds, then a random instant.
        const target = before + 1 + Math.floor(rng() * Math.max(1, (total - before) / (ROUNDS - round)));
        while (!done && committedImages(indexDir) < Math.min(target, total)) await sleep(10);
        await sleep(rng() * 50);
      }
      child.kill('SIGKILL');
      const { signal, code, stderr } = await outcome;
      expect(code === 0 || signal === 'SIGKILL', `round ${round} (seed ${SEED}): ${stderr}`).to.equal(true);
      const after = committedImages(indexDir);
      if (signal === 'SIGKILL' && after < total) killedMidIngest++;
      kills.push(`${before}→${after}${signal ? '' : ' (finished)'}`);
    }
    // Most kills must have hit an unfinished ingest (the rest: start-up, or a run with nothing left to do).
    expect(killedMidIngest, `seed ${SEED}, kills ${kills.join(', ')}`).to.be.at.least(ROUNDS / 2);
    const last = await cliExited(spawnIngest(photos, indexDir));
    expect(last.code, `seed ${SEED}, kills ${kills.join(', ')}: ${last.stderr}`).to.equal(0);
    const summary = JSON.parse(last.stdout) as IngestSummary;
    expect(summary).to.include({ images: total, failed: broken.length, interrupted: false, awaitingEmbedding: 0 });
    await checkIndex(indexDir, readable, broken, embedder);
  });

  it('power-loss style: killed while writing the HNSW file, or the file torn, the next run repairs the index', async () => {
    const photos = join(root, 'few');
    const { readable, broken } = { readable: new Map(copyCoco(photos, 24).map((f) => [f, sha256File(f)])), broken: [] as string[] };
    const indexDir = join(root, 'power');
    // Kill the instant a temp HNSW file appears (the atomic save is under way).
    mkdirSync(indexDir);
    const child = spawnIngest(photos, indexDir);
    const outcome = cliExited(child);
    let sawTemp = false;
    const watcher = watch(indexDir, (_event, name) => {
      if (name && /vectors-[0-9a-f]+\.hnsw\.\d+\.tmp$/.test(name.toString()) && !sawTemp) {
        sawTemp = true;
        child.kill('SIGKILL');
      }
    });
    const first = await outcome;
    watcher.close();
    expect(sawTemp, first.stderr).to.equal(true);
    expect(first.signal === 'SIGKILL' || first.code === 0).to.equal(true); // the save may just have ended

    let rounds = 0;
    const meta = () => {
      const store = ImageStore.open(indexDir, { readonly: true });
      try {
        return store.getMeta()!;
      } finally {
        store.close();
      }
    };
    // Then the file a power cut could leave behind: empty, cut short, or its end never written (zeros).
    const tear: ((file: string) => void)[] = [
      () => {},
      (file) => writeFileSync(join(indexDir, `.${basename(file)}.999999.tmp`), readFileSync(file).subarray(0, 1000)),
      (file) => truncateSync(file, 0),
      (file) => truncateSync(file, Math.floor(statSync(file).size / 2)),
      (file) => {
        const bytes = readFileSync(file);
        bytes.fill(0, Math.floor(bytes.length * 0.7));
        writeFileSync(file, bytes);
      },
    ];
    for (const damage of tear) {
      const file = hnswPath(indexDir, meta().modelVersion);
      if (existsSync(file)) damage(file);
      const resumed = await cliExited(spawnIngest(photos, indexDir));
      expect(resumed.code, resumed.stderr).to.equal(0);
      expect(JSON.parse(resumed.stdout) as IngestSummary).to.include({ images: readable.size, failed: 0 });
      await checkIndex(indexDir, readable, broken, embedder);
      rounds++;
    }
    expect(rounds).to.equal(tear.length);
  });
});
