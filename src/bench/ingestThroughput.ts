import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { ingest } from '../ingest/ingestService.js';
import { DEFAULT_INGEST_MAX_PIXELS } from '../ingest/probe.js';
import { writeThumbnail } from '../ingest/thumbnails.js';
import { Embedder } from '../model/embedder.js';
import { decodeImage, loadModelInput, toModelInput } from '../model/preprocess.js';
import { type Repeated, msSince, repeated } from './stats.js';

export interface IngestThroughputOptions {
  /** Image files, ingested by path (the folder is only read). */
  readonly images: readonly string[];
  readonly repeats: number;
  readonly batchSize: number;
  /** Each run ingests into a fresh index here. */
  readonly workDir: string;
  readonly modelsDir?: string;
}

export interface IngestThroughput {
  readonly images: number;
  readonly batchSize: number;
  readonly device: 'cpu';
  /** The pipeline's own rate over its embedding phase: read, hash, decode, embed, commit (summary.imagesPerSecond). */
  readonly ingestImagesPerSecond: Repeated;
  /** The whole ingest() call: opening the index and the model, walking, the HNSW save included. */
  readonly ingestEndToEndImagesPerSecond: Repeated;
  /** onnxruntime alone: Embedder.embed over the same images, already decoded, in batches of the same size. */
  readonly rawImagesPerSecond: Repeated;
  /** median ingest rate / median raw rate. */
  readonly ratio: number;
  /** Wall time per image of what a decode worker does (decode, model input, thumbnail), one image at a time. */
  readonly decodeMsPerImage: Repeated;
  /**
   * The ratio to expect when decoding and inference share the same cores: the model's CPU time per image
   * (cores × 1000 / raw rate) over that plus the decode time. Above it needs idle cores (or a GPU) to decode on.
   */
  readonly sharedCoresCeiling: number;
  readonly target: number;
  readonly meetsTarget: boolean;
}

export const INGEST_RATIO_TARGET = 0.9;

/** Images per second of one pass of the model over already decoded inputs. */
async function rawPass(embedder: Embedder, inputs: readonly Float32Array[], batchSize: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < inputs.length; i += batchSize) await embedder.embed(inputs.slice(i, i + batchSize));
  return inputs.length / (msSince(started) / 1000);
}

/** Mean wall milliseconds per image of the decode workers' job, done here one image at a time. */
async function decodePass(images: readonly string[], thumbnails: string): Promise<number> {
  const started = performance.now();
  for (const [i, file] of images.entries()) {
    const image = await decodeImage(await readFile(file), DEFAULT_INGEST_MAX_PIXELS);
    toModelInput(image);
    await writeThumbnail(join(thumbnails, `${i}.webp`), image);
  }
  return msSince(started) / images.length;
}

/**
 * Ingest throughput against the model's raw throughput on the same images, measured alternately in the same
 * run (one raw pass, then one ingest into a fresh index, `repeats` times) so both see the same machine load.
 * Returns the figures and the index of the last ingest, which later measurements search.
 */
export async function measureIngestThroughput(options: IngestThroughputOptions): Promise<{ figures: IngestThroughput; indexDir: string }> {
  const { images, repeats, batchSize, workDir, modelsDir } = options;
  const embedder = await Embedder.open({ device: 'cpu', modelsDir });
  const inputs = await Promise.all(images.map(async (file) => (await loadModelInput(file)).pixels));
  await rawPass(embedder, inputs.slice(0, batchSize), batchSize); // warm-up: first runs allocate
  const raw: number[] = [];
  const pipeline: number[] = [];
  const endToEnd: number[] = [];
  const decode: number[] = [];
  let indexDir = '';
  try {
    for (let run = 0; run < repeats; run++) {
      const thumbnails = mkdtempSync(join(workDir, 'thumbs-'));
      decode.push(await decodePass(images, thumbnails));
      rmSync(thumbnails, { recursive: true, force: true });
      raw.push(await rawPass(embedder, inputs, batchSize));
      if (indexDir) rmSync(indexDir, { recursive: true, force: true });
      indexDir = mkdtempSync(join(workDir, 'ingest-'));
      const started = performance.now();
      const summary = await ingest({ paths: images, indexDir, batchSize, device: 'cpu', modelsDir });
      endToEnd.push(images.length / (msSince(started) / 1000));
      if (summary.failed > 0) throw new Error(`benchmark images failed to ingest: ${summary.errors.map((e) => e.path).join(', ')}`);
      pipeline.push(summary.imagesPerSecond);
    }
  } finally {
    await embedder.close();
  }
  const ingestRate = repeated(pipeline);
  const rawRate = repeated(raw);
  const ratio = ingestRate.median / rawRate.median;
  const decodeMs = repeated(decode);
  const inferenceCoreMs = (availableParallelism() * 1000) / rawRate.median;
  return {
    figures: {
      images: images.length,
      batchSize,
      device: 'cpu',
      ingestImagesPerSecond: ingestRate,
      ingestEndToEndImagesPerSecond: repeated(endToEnd),
      rawImagesPerSecond: rawRate,
      ratio,
      decodeMsPerImage: decodeMs,
      sharedCoresCeiling: inferenceCoreMs / (inferenceCoreMs + decodeMs.median),
      target: INGEST_RATIO_TARGET,
      meetsTarget: ratio >= INGEST_RATIO_TARGET,
    },
    indexDir,
  };
}
