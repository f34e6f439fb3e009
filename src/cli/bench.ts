/**
 * `npm run bench -- [--quick | --full] [--out <dir>] [--data <dir>]`: measures ingest, query, index, exact-scan,
 * attack and HTTP performance on this machine and writes <out>/bench.json and <out>/bench.md. See HELP.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { freemem, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type ExactScanFigures, matrixOf, measureExactScan } from '../bench/exactScan.js';
import { measureHttp } from '../bench/httpLoad.js';
import { type IndexScalingPoint, measureIndexScaling } from '../bench/indexScaling.js';
import { measureIngestThroughput } from '../bench/ingestThroughput.js';
import { describeMachine } from '../bench/machine.js';
import { measurePgd } from '../bench/pgdTime.js';
import { type PostgresBenchOptions, measurePostgres } from '../bench/postgresBench.js';
import { measurePhonePhotos, PHONE_HEIGHT, PHONE_WIDTH, writePhonePhotos } from '../bench/phonePhotos.js';
import { measureQueryLatency } from '../bench/queryLatency.js';
import { type BenchMode, type BenchReport, renderMarkdown, writeReport } from '../bench/report.js';
import { ClusteredUnitVectors, SYNTHETIC_DISTRIBUTION } from '../bench/syntheticVectors.js';
import { PROJECT_ROOT, defaultCorpusDir } from '../config.js';
import { isImagePath } from '../ingest/walk.js';
import { defaultModelsDir } from '../model/card.js';
import { ImageStore } from '../store/imageStore.js';

export const HELP = `Usage: npm run bench -- [--quick | --full] [--out <dir>] [--data <dir>]

Measures, on this machine and with the installed model:
  - ingest throughput against raw onnxruntime throughput of the same model on the same images (ratio)
  - query latency p50/p99 by corpus id and by upload, and the share of the certificate step
  - ingest and upload speed on 12-megapixel phone JPEGs (made at run time from the corpus) against corpus photos
  - HNSW scaling on synthetic 256-d unit vectors: build time, memory, latency and recall@10 per ef
  - exact-scan time (what the certificates of scope "exact" cost) against corpus size
  - a 50-step PGD attack
  - the PostgreSQL backend (npm run db, PGlite + pgvector, in its own process): ingest, queries, pgvector HNSW
  - HTTP load on the search API and thumbnails (autocannon, against a server on 127.0.0.1)
and writes <out>/bench.json (every figure) and <out>/bench.md (tables). Figures are medians over repeated runs.

Options:
  --quick       CI size: a few images, 10^4 vectors, 5-second HTTP runs (about a minute or two)
  --full        also 10^6 vectors (needs ~4 GiB of free memory and several minutes)
  --out <dir>   where the reports go (default reports/)
  --data <dir>  the photos to ingest and query (default: $LIPSEARCH_CORPUS, else ${defaultCorpusDir()})
  -h, --help    this text`;

interface ModeSettings {
  readonly ingestImages: number;
  readonly repeats: number;
  readonly uploads: number;
  /** Phone-size JPEGs made from the first corpus photos (issue #15). */
  readonly phonePhotos: number;
  readonly indexSizes: readonly number[];
  readonly exactSizes: readonly number[];
  readonly queries: number;
  /** Timed passes over the queries of each ef. */
  readonly passes: number;
  readonly httpSeconds: number;
}

const SETTINGS: Record<BenchMode, ModeSettings> = {
  quick: { ingestImages: 24, repeats: 3, uploads: 8, phonePhotos: 8, indexSizes: [1e4], exactSizes: [1e3, 1e4], queries: 100, passes: 2, httpSeconds: 5 },
  default: { ingestImages: Infinity, repeats: 3, uploads: 50, phonePhotos: 40, indexSizes: [1e4, 1e5], exactSizes: [1e3, 1e4, 1e5], queries: 200, passes: 3, httpSeconds: 60 },
  full: { ingestImages: Infinity, repeats: 3, uploads: 50, phonePhotos: 40, indexSizes: [1e4, 1e5, 1e6], exactSizes: [1e3, 1e4, 1e5, 1e6], queries: 200, passes: 3, httpSeconds: 60 },
};
const DIM = 256;
const HTTP_CONNECTIONS = 10;
const SEED = 20_240_601;

export class UsageError extends Error {}

export function parseBenchArgs(argv: string[]): { help: boolean; mode: BenchMode; out: string; data: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        quick: { type: 'boolean' },
        full: { type: 'boolean' },
        out: { type: 'string' },
        data: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.quick && values.full) throw new UsageError('--quick and --full exclude each other');
  return {
    help: values.help === true,
    mode: values.quick ? 'quick' : values.full ? 'full' : 'default',
    out: resolve(values.out ?? join(PROJECT_ROOT, 'reports')),
    data: resolve(values.data ?? defaultCorpusDir()),
  };
}

const log = (message: string) => console.error(`[bench] ${message}`);

/** Bytes the scaling step holds for n vectors: ours, hnswlib's copy, its graph, and the brute-force scratch. */
const scalingBytes = (n: number) => n * DIM * 4 * 2.5 + n * 400;

type IndexCorpus = PostgresBenchOptions['corpora'][number];

/**
 * HNSW scaling and exact scans on one synthetic corpus per size (the exact-scan-only sizes are small); the
 * index sizes' corpora are returned for the PostgreSQL rows.
 */
function syntheticMeasurements(settings: ModeSettings, skipped: string[]): { points: IndexScalingPoint[]; exactScan: ExactScanFigures; corpora: IndexCorpus[] } {
  const sizes = [...new Set([...settings.exactSizes, ...settings.indexSizes])].sort((a, b) => a - b);
  const points: IndexScalingPoint[] = [];
  const scans: Parameters<typeof measureExactScan>[0][number][] = [];
  const corpora: IndexCorpus[] = [];
  for (const n of sizes) {
    if (scalingBytes(n) > freemem()) {
      skipped.push(`${n.toLocaleString('en')} vectors: needs ~${(scalingBytes(n) / 2 ** 30).toFixed(1)} GiB, ${(freemem() / 2 ** 30).toFixed(1)} GiB free`);
      continue;
    }
    log(`synthetic corpus of ${n.toLocaleString('en')} × ${DIM}-d unit vectors …`);
    const mixture = ClusteredUnitVectors.forCorpus(n, DIM, SEED + n);
    const corpus = mixture.draw(n);
    const queries = mixture.draw(settings.queries);
    const matrix = matrixOf(corpus);
    if (settings.exactSizes.includes(n)) scans.push({ matrix, queries });
    if (settings.indexSizes.includes(n)) {
      log(`  HNSW build and ef sweep at ${n.toLocaleString('en')} …`);
      points.push(measureIndexScaling(corpus, matrix, queries, settings.passes));
      corpora.push({ corpus, matrix, queries });
    }
  }
  log('exact scans …');
  return { points, exactScan: measureExactScan(scans), corpora };
}

export async function runBench(mode: BenchMode, data: string): Promise<BenchReport> {
  const settings = SETTINGS[mode];
  const started = Date.now();
  const modelsDir = defaultModelsDir();
  const machine = await describeMachine(modelsDir);
  const photos = readdirSync(data).filter(isImagePath).sort().map((name) => join(data, name));
  if (photos.length === 0) throw new Error(`no images in ${data}`);
  const images = photos.slice(0, Math.min(photos.length, settings.ingestImages));
  const skipped: string[] = [];
  const workDir = mkdtempSync(join(tmpdir(), 'lipsearch-bench-'));
  try {
    log(`ingest vs raw onnxruntime: ${settings.repeats} × ${images.length} images …`);
    const { figures: ingest, indexDir } = await measureIngestThroughput({ images, repeats: settings.repeats, batchSize: 32, workDir, modelsDir });

    log('query latency …');
    const query = await measureQueryLatency({ index: indexDir, uploads: images.slice(0, settings.uploads), repeats: settings.repeats, modelsDir });

    log(`phone-size photos: ${settings.phonePhotos} × ${PHONE_WIDTH}×${PHONE_HEIGHT} JPEGs made from the corpus, ingest and upload …`);
    const phoneDir = mkdtempSync(join(workDir, 'phone-'));
    const phone = await measurePhonePhotos({
      phonePhotos: await writePhonePhotos(images.slice(0, settings.phonePhotos), phoneDir),
      repeats: settings.repeats,
      workDir,
      indexDir,
      corpusIngestImagesPerSecond: ingest.ingestImagesPerSecond.median,
      corpusUploadP50Ms: query.byUpload.total.p50Ms,
      modelsDir,
    });

    log(`HTTP load: ${settings.httpSeconds} s per endpoint …`);
    const ids = withStore(indexDir, (store) => store.vectorIds());
    const http = await measureHttp({ indexDir, ids, durationSeconds: settings.httpSeconds, connections: HTTP_CONNECTIONS });

    log(`PGD attack: ${settings.repeats} × 50 steps …`);
    const pgd = await measurePgd({ photo: images[0], repeats: mode === 'quick' ? 1 : settings.repeats, modelsDir });

    const { points, exactScan, corpora } = syntheticMeasurements(settings, skipped);

    log(`PostgreSQL (npm run db): ingest of ${images.length} images, queries, pgvector HNSW at ${corpora.map((c) => c.corpus.count.toLocaleString('en')).join(', ')} vectors …`);
    const postgres = await measurePostgres({
      images,
      uploads: images.slice(0, settings.uploads),
      repeats: settings.repeats,
      workDir,
      modelsDir,
      embeddedIngestImagesPerSecond: ingest.ingestImagesPerSecond.median,
      corpora,
      passes: settings.passes,
    });
    return {
      schemaVersion: 1,
      mode,
      startedAt: new Date(started).toISOString(),
      durationSeconds: (Date.now() - started) / 1000,
      machine: { ...machine, loadAverageAtEnd: loadavg()[0] },
      corpus: { dir: data, images: images.length },
      ingest,
      query,
      phone,
      http,
      pgd,
      indexScaling: { distribution: SYNTHETIC_DISTRIBUTION, points },
      exactScan,
      postgres,
      skipped,
    };
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

function withStore<T>(indexDir: string, fn: (store: ImageStore) => T): T {
  const store = ImageStore.open(indexDir, { readonly: true });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    console.error(`bench: ${(err as Error).message}\nRun with --help for usage.`);
    process.exit(2);
  }
  if (args.help) return void console.log(HELP);
  try {
    const report = await runBench(args.mode, args.data);
    const files = writeReport(args.out, report);
    console.log(renderMarkdown(report));
    log(`wrote ${files.json} and ${files.markdown}`);
  } catch (err) {
    console.error(`bench: ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
