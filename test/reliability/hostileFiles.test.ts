import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/config.js';
import { HnswIndex } from '../../src/index/hnswIndex.js';
import { type IngestSummary, ingest } from '../../src/ingest/ingestService.js';
import { decodeImage } from '../../src/model/preprocess.js';
import { ImageStore } from '../../src/store/imageStore.js';
import { hnswPath } from '../../src/store/indexLayout.js';
import { cocoFiles } from '../helpers/cocoVectors.js';
import { type HostileCase, writeHostileCorpus } from '../helpers/hostileFiles.js';
import { tempDir } from '../helpers/tempFolders.js';

/** Peak resident memory of this process while `work` runs, sampled every 20 ms. */
async function peakRss<T>(work: () => Promise<T>): Promise<{ result: T; peakBytes: number }> {
  let peakBytes = process.memoryUsage.rss();
  const timer = setInterval(() => (peakBytes = Math.max(peakBytes, process.memoryUsage.rss())), 20);
  try {
    const result = await work();
    return { result, peakBytes: Math.max(peakBytes, process.memoryUsage.rss()) };
  } finally {
    clearInterval(timer);
  }
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Decoding holds one large image (48 MP here, 3 bytes a pixel, plus libvips' working copies) at a time. */
const MEMORY_BOUND_BYTES = 2 * 1024 ** 3;

describe('ingest of hostile files (issue 8): every file indexed correctly or reported, the run never stops', () => {
  let root: string;
  let photos: string;
  let indexDir: string;
  let cases: HostileCase[];
  let summary: IngestSummary;
  let peakBytes: number;
  let external: Server;
  let externalRequests = 0;

  before(async () => {
    root = tempDir('hostile');
    photos = join(root, 'photos');
    indexDir = join(root, 'index');
    external = createServer((_req, res) => {
      externalRequests++;
      res.end();
    });
    await new Promise<void>((resolve) => external.listen(0, '127.0.0.1', resolve));
    const externalUrl = `http://127.0.0.1:${(external.address() as AddressInfo).port}/fetched.png`;
    cases = await writeHostileCorpus(photos, { externalUrl });
    ({ result: summary, peakBytes } = await peakRss(() => ingest({ paths: [photos], indexDir, batchSize: 8, device: 'cpu', decoders: 2 })));
  });
  after(async () => {
    await new Promise((resolve) => external.close(resolve));
    rmSync(root, { recursive: true, force: true });
  });

  it('covers at least 30 hostile cases', () => {
    expect(cases.length).to.be.at.least(30);
    expect(new Set(cases.map((c) => c.path)).size).to.equal(cases.length);
  });

  it('finishes the run, and reports exactly the refused files, each with its reason', () => {
    expect(summary.interrupted).to.equal(false);
    const reasons = new Map(summary.errors.map((e) => [e.path, e.reason]));
    for (const c of cases) {
      if (c.expect.outcome === 'refused') {
        expect(reasons.get(c.path), `${c.name}: ${c.description}`).to.match(c.expect.reason);
      } else {
        expect(reasons.has(c.path), `${c.name} (${c.description}) failed: ${reasons.get(c.path)}`).to.equal(false);
      }
    }
    const expectedFailures = cases.filter((c) => c.expect.outcome === 'refused').map((c) => c.path);
    expect([...reasons.keys()].sort()).to.deep.equal(expectedFailures.sort());
    // Failures are kept in the index too, for the UI and later runs.
    const store = ImageStore.open(indexDir, { readonly: true });
    try {
      expect(store.countErrors()).to.equal(expectedFailures.length);
    } finally {
      store.close();
    }
  });

  it('indexes every good file, searchable by its own vector, and auto-orients EXIF-rotated photos', async () => {
    const store = ImageStore.open(indexDir, { readonly: true });
    try {
      const meta = store.getMeta()!;
      const index = await HnswIndex.open(hnswPath(indexDir, meta.modelVersion), meta.dim);
      expect(index.size()).to.equal(store.vectorCount());
      expect(store.vectorCount()).to.equal(store.count());
      const vectorOf = new Map<string, Float32Array>();
      for (const c of cases.filter((k) => k.expect.outcome === 'ingested')) {
        const image = store.findByPath(c.path);
        expect(image, `${c.name} (${c.description}) is not indexed`).to.not.equal(undefined);
        const vector = store.getVector(image!.id)!;
        expect(dot(vector, vector)).to.be.closeTo(1, 1e-4);
        const hit = index.search(vector, 1)[0];
        expect(hit.distance, c.name).to.be.below(1e-4);
        vectorOf.set(c.name, vector);
      }
      for (const c of cases) {
        if (c.expect.outcome !== 'ingested' || !c.expect.sameEmbeddingAs) continue;
        const [mine, theirs] = [vectorOf.get(c.name)!, vectorOf.get(c.expect.sameEmbeddingAs)!];
        expect(1 - dot(mine, theirs), `${c.name} vs ${c.expect.sameEmbeddingAs}`).to.be.below(1e-6);
      }
      // Oriented before anything else: the sideways-stored files are recorded with their upright size, and
      // decode to exactly the pixels of their upright references.
      for (const name of ['exif-rotated-png', 'exif-rotated-jpeg']) {
        const c = cases.find((k) => k.name === name)!;
        const reference = cases.find((k) => c.expect.outcome === 'ingested' && k.name === c.expect.sameEmbeddingAs)!;
        expect(store.findByPath(c.path)).to.include({ width: 240, height: 320 });
        const [rotated, upright] = await Promise.all([decodeImage(c.path), decodeImage(reference.path)]);
        expect(Buffer.compare(Buffer.from(rotated.rgb), Buffer.from(upright.rgb)), name).to.equal(0);
      }
      const huge = store.findByPath(cases.find((c) => c.name === 'huge-valid')!.path)!;
      expect(huge).to.include({ width: 8000, height: 6000 });
    } finally {
      store.close();
    }
  });

  it('never renders an SVG: nothing it references is fetched', () => {
    expect(externalRequests).to.equal(0);
  });

  it('keeps memory bounded (one large decode at a time)', () => {
    expect(peakBytes).to.be.below(MEMORY_BOUND_BYTES);
  });

  it('a second run reads nothing new and reports the same refusals', async () => {
    const again = await ingest({ paths: [photos], indexDir, batchSize: 8, device: 'cpu', decoders: 2 });
    expect(again).to.include({ added: 0, embedded: 0, images: summary.images, failed: summary.failed });
  });
});

describe('ingest of an unreadable file', () => {
  it('reports "permission denied" (run as an unprivileged user, since root reads any file)', async function () {
    const uid = process.getuid?.();
    if (uid === undefined) this.skip(); // no POSIX users on this platform
    const root = tempDir('unreadable');
    try {
      const photos = join(root, 'photos');
      const indexDir = join(root, 'index');
      mkdirSync(photos);
      mkdirSync(indexDir);
      const [good] = cocoFiles(1);
      copyFileSync(good, join(photos, 'good.jpg'));
      writeFileSync(join(photos, 'locked.jpg'), 'content nobody may read');
      chmodSync(join(photos, 'locked.jpg'), 0o000);
      const asUser = uid === 0 ? 65_534 : uid; // root: run the CLI as "nobody", for whom mode 000 means no access
      chmodSync(root, 0o755);
      chownSync(indexDir, asUser, asUser);
      const child = spawn(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'src', 'cli', 'ingest.ts'), photos, '--index', indexDir, '--device', 'cpu', '--json'], {
        cwd: PROJECT_ROOT,
        uid: asUser,
        gid: asUser,
        env: { ...process.env, HOME: root },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code, stderr).to.equal(0);
      const result = JSON.parse(stdout) as IngestSummary;
      expect(result).to.include({ added: 1, failed: 1 });
      expect(result.errors).to.deep.equal([{ path: join(photos, 'locked.jpg'), reason: 'permission denied' }]);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
