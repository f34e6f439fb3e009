import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ingest } from '../../src/ingest/ingestService.js';
import { type RunningServer, startServer } from '../../src/server/server.js';
import { ImageStore } from '../../src/store/imageStore.js';
import { cocoFiles } from './cocoVectors.js';

/** COCO photos in the shared test index: enough for ≥ 50 distinct queries, quick to embed on 2 cores. */
export const TEST_CORPUS_SIZE = 60;

export interface TestIndex {
  readonly dir: string;
  readonly files: string[];
  /** The image id of each ingested file. */
  readonly idOf: ReadonlyMap<string, number>;
}

let shared: Promise<TestIndex> | undefined;

/** A temp directory removed when the test process exits. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Ingests `files` with the real ingest service into a new temp index. */
export async function buildIndex(files: string[], prefix = 'lipsearch-index-'): Promise<TestIndex> {
  const dir = tempDir(prefix);
  await ingest({ paths: files, indexDir: dir, device: 'cpu', decoders: 1 });
  const store = ImageStore.open(dir, { readonly: true });
  try {
    return { dir, files, idOf: new Map(files.map((f) => [f, store.findByPath(f)!.id])) };
  } finally {
    store.close();
  }
}

/** One real index of the first TEST_CORPUS_SIZE COCO photos, built once per test run and shared. */
export function cocoTestIndex(): Promise<TestIndex> {
  shared ??= buildIndex(cocoFiles(TEST_CORPUS_SIZE));
  return shared;
}

/** A real server on 127.0.0.1 (free port) over the shared COCO index. */
export async function startTestServer(options: { maxUploadBytes?: number; maxPixels?: number } = {}): Promise<RunningServer> {
  const { dir } = await cocoTestIndex();
  return startServer({ indexDir: dir, port: 0, ...options });
}
