import { expect } from 'chai';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { HnswIndex } from '../../src/index/hnswIndex.js';
import type { IngestSummary } from '../../src/ingest/ingestService.js';
import { ImageStore } from '../../src/store/imageStore.js';
import { hnswPath, indexLayout } from '../../src/store/indexLayout.js';
import { cocoFiles } from '../helpers/cocoVectors.js';
import { cliExited, committedImages, spawnIngestCli, writerLockIsFree } from '../helpers/ingestCli.js';
import { copyCoco, tempDir } from '../helpers/tempFolders.js';

const runCli = (args: string[], env: NodeJS.ProcessEnv = {}) => cliExited(spawnIngestCli(args, env));


async function waitFor(condition: () => boolean, what: string, child: ChildProcess): Promise<void> {
  while (!condition()) {
    if (child.exitCode !== null) throw new Error(`the ingest ended before ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Snapshot {
  /** sha256 -> { paths, vector } */
  images: Map<string, { paths: string[]; vector: Float32Array }>;
  errors: number;
  hnswIds: number[];
  storeIds: number[];
  thumbnails: string[];
}

async function snapshot(indexDir: string): Promise<Snapshot> {
  const store = ImageStore.open(indexDir, { readonly: true });
  try {
    const meta = store.getMeta()!;
    const records = store.listImages(0, 1_000_000);
    const vectors = store.getVectors(records.map((r) => r.id));
    const hnsw = await HnswIndex.open(hnswPath(indexDir, meta.modelVersion), meta.dim);
    return {
      images: new Map(records.map((r) => [r.sha256, { paths: [...r.paths].sort(), vector: vectors.get(r.id)! }])),
      errors: store.listErrors(1000).length,
      hnswIds: hnsw.ids().sort((a, b) => a - b),
      storeIds: store.vectorIds(),
      thumbnails: readdirSync(indexLayout(indexDir).thumbnails).sort(),
    };
  } finally {
    store.close();
  }
}

describe('npm run ingest (the CLI as a child process)', () => {
  let root: string;
  beforeEach(() => (root = tempDir('ingest-cli')));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('survives kill -9 at two points: the resumed index equals an uninterrupted one', async () => {
    const photos = join(root, 'photos');
    copyCoco(photos, 120);
    const args = (index: string) => [photos, '--index', index, '--batch', '4', '--device', 'cpu', '--json'];

    const reference = join(root, 'reference');
    const uninterrupted = await runCli(args(reference));
    expect(uninterrupted.code, uninterrupted.stderr).to.equal(0);
    const referenceSummary = JSON.parse(uninterrupted.stdout) as IngestSummary;
    expect(referenceSummary).to.include({ found: 120, failed: 0 });

    const crashed = join(root, 'crashed');
    for (const killAt of [8, 60]) {
      const child = spawnIngestCli(args(crashed));
      const outcome = cliExited(child);
      await waitFor(() => committedImages(crashed) >= killAt, `${killAt} images were committed`, child);
      if (killAt === 8) {
        // Meanwhile a second writer is turned away with a clear message (readers, like committedImages(), are not).
        const second = await runCli(args(crashed));
        expect(second.code).to.equal(1);
        expect(second.stderr).to.match(/another ingest \(pid \d+\) is writing this index/);
      }
      child.kill('SIGKILL');
      expect((await outcome).signal).to.equal('SIGKILL');
      expect(committedImages(crashed)).to.be.below(referenceSummary.images); // really killed in the middle
    }
    const resumed = await runCli(args(crashed));
    expect(resumed.code, resumed.stderr).to.equal(0);
    const resumedSummary = JSON.parse(resumed.stdout) as IngestSummary;
    expect(resumedSummary.images).to.equal(referenceSummary.images);
    expect(resumedSummary.added + resumedSummary.unchanged).to.equal(120);
    // The second run saved its repaired HNSW file at start; the last one found it stale and completed it.
    expect(resumedSummary.repaired.rebuilt).to.equal(false);
    expect(resumedSummary.repaired.added).to.be.greaterThan(0);

    const [want, got] = [await snapshot(reference), await snapshot(crashed)];
    expect([...got.images.keys()].sort()).to.deep.equal([...want.images.keys()].sort());
    for (const [sha, image] of want.images) {
      const other = got.images.get(sha)!;
      expect(other.paths).to.deep.equal(image.paths);
      other.vector.forEach((v, j) => expect(v).to.be.closeTo(image.vector[j], 1e-5));
    }
    expect(got.errors).to.equal(0);
    expect(got.hnswIds).to.deep.equal(got.storeIds); // the HNSW file holds exactly the stored vectors
    expect(got.thumbnails).to.deep.equal(want.thumbnails); // one per image, no temp files
    expect(readdirSync(crashed).filter((n) => n.endsWith('.tmp'))).to.deep.equal([]);
    expect(writerLockIsFree(crashed)).to.equal(true);
  });

  it('exits 0 despite broken files, or 3 with --strict, and prints a readable summary', async () => {
    const photos = join(root, 'photos');
    copyCoco(photos, 2);
    writeFileSync(join(photos, 'broken.jpg'), 'not a jpeg');
    const index = join(root, 'index');
    const lenient = await runCli([photos, '--index', index, '--device', 'cpu']);
    expect(lenient.code, lenient.stderr).to.equal(0);
    expect(lenient.stdout).to.match(/added\s+2/).and.match(/failed\s+1/).and.match(/broken\.jpg: unsupported image format/);
    expect(lenient.stderr).to.match(/embedding: 3\/3 100\.0%/); // plain progress lines when not a TTY
    const strict = await runCli([photos, '--index', index, '--device', 'cpu', '--strict']);
    expect(strict.code).to.equal(3);
    expect(strict.stdout).to.match(/unchanged\s+2/);
  });

  it('--download-coco downloads and unzips the set, ingests it, and reuses a complete download', async () => {
    const [a, b, c] = cocoFiles(3);
    const zip = zipSync({
      'retrieval_images/a.jpg': readFileSync(a),
      'retrieval_images/nested/b.jpg': readFileSync(b),
      '../escape.jpg': readFileSync(c), // must land inside --to, not beside it
      '__MACOSX/retrieval_images/._a.jpg': new Uint8Array(10),
      'retrieval_images/readme.txt': new TextEncoder().encode('hello'),
    });
    const server = createHttpServer((_, response) => response.end(zip));
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
    const to = join(root, 'coco');
    const args = ['--download-coco', '--to', to, '--index', join(root, 'index'), '--device', 'cpu', '--json'];
    try {
      const first = await runCli(args, { LIPSEARCH_COCO_URL: `http://127.0.0.1:${port}/retrieval_images.zip` });
      expect(first.code, first.stderr).to.equal(0);
      expect(JSON.parse(first.stdout)).to.include({ found: 3, added: 3, failed: 0 });
      expect(readdirSync(to).filter((n) => n.endsWith('.jpg')).sort()).to.deep.equal(['a.jpg', 'b.jpg', 'escape.jpg']);
      expect(existsSync(join(root, 'escape.jpg'))).to.equal(false);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    const again = await runCli(args, { LIPSEARCH_COCO_URL: `http://127.0.0.1:${port}/retrieval_images.zip` });
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stderr).to.match(/Already downloaded: 3 images/);
    expect(JSON.parse(again.stdout)).to.include({ unchanged: 3, embedded: 0 });
  });

  it('fails --download-coco offline with a clear message and exit status 1', async () => {
    const server = createServer();
    const port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)));
    await new Promise((resolve) => server.close(resolve)); // now nothing listens there
    const url = `http://127.0.0.1:${port}/retrieval_images.zip`;
    const result = await runCli(['--download-coco', '--to', join(root, 'coco'), '--index', join(root, 'index')], {
      LIPSEARCH_COCO_URL: url,
    });
    expect(result.code).to.equal(1);
    expect(result.stderr).to.include(`could not download the COCO retrieval set from ${url}`);
    expect(result.stderr).to.match(/offline/).and.not.match(/\n\s+at /); // a message, not a stack trace
    expect(existsSync(join(root, 'index'))).to.equal(false);
  });

  it('explains itself with --help and rejects a bad command line with status 2', async () => {
    const help = await runCli(['--help']);
    expect(help.code).to.equal(0);
    for (const flag of ['--index', '--batch', '--device', '--prune', '--reindex', '--strict', '--download-coco', 'Exit status']) {
      expect(help.stdout).to.include(flag);
    }
    const bad = await runCli(['--device', 'tpu']);
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.match(/--device must be cpu, cuda or auto/);
  });
});
