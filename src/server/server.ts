import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JobManager } from '../attack/index.js';
import { ComparisonService } from '../compare/comparisonService.js';
import { Embedder } from '../model/embedder.js';
import { loadModelInput } from '../model/preprocess.js';
import type { Device } from '../model/session.js';
import { indexLocation } from '../backend/location.js';
import { IndexReader } from '../search/indexReader.js';
import { SearchService } from '../search/searchService.js';
import { createApp } from './app.js';
import { CorpusService } from './services/corpusService.js';

export interface ServerOptions {
  readonly indexDir: string;
  /** A PostgreSQL URL: serve the index kept there instead of indexDir. */
  readonly database?: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Loopback unless told otherwise: the server is not meant to face a network without a proxy. */
  readonly host?: string;
  readonly device?: Device;
  readonly threads?: number;
  readonly modelsDir?: string;
  /** Corpora up to this many vectors are scanned exactly (scope `exact`). */
  readonly exactScanLimit?: number;
  /** Upload limits: bytes of the request body, pixels of the decoded image. */
  readonly maxUploadBytes?: number;
  readonly maxPixels?: number;
  /** Attack comparisons running at once (each attacks two models); one more is refused with 429. Default 2. */
  readonly maxAttacks?: number;
  /**
   * Corpora up to this many images are embedded with the baseline model in the background at start, so the
   * first attack comparison need not wait for it (0: never; default BASELINE_WARM_UP_LIMIT).
   */
  readonly baselineWarmUpLimit?: number;
  readonly timeouts?: Partial<ServerTimeouts>;
}

/** Cuts off slow or stalled clients, so a few of them cannot hold the server's sockets forever. */
export interface ServerTimeouts {
  /** Until the request headers are complete. */
  readonly headersMs: number;
  /** Until the whole request, body included, has arrived: bounds a stalled upload (responses may last longer). */
  readonly requestMs: number;
  /** An idle keep-alive connection between requests. */
  readonly keepAliveMs: number;
  /** Node enforces the first two on this interval, not per socket. */
  readonly checkIntervalMs: number;
}

/** A 20 MB upload still fits `requestMs` at about 1.5 Mbit/s. */
export const DEFAULT_TIMEOUTS: ServerTimeouts = { headersMs: 20_000, requestMs: 120_000, keepAliveMs: 5_000, checkIntervalMs: 5_000 };

export interface RunningServer {
  readonly url: string;
  readonly search: SearchService;
  close(): Promise<void>;
}

/** Opens the index and the model, and serves the app until close(). */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const reader = await IndexReader.open(indexLocation(options), { exactScanLimit: options.exactScanLimit });
  const embedder = await Embedder.open({ device: options.device ?? 'cpu', threads: options.threads, modelsDir: options.modelsDir });
  const search = new SearchService(reader, embedder, { maxPixels: options.maxPixels });
  const corpus = new CorpusService(reader, embedder.card);
  const { device = 'cpu', threads, modelsDir, maxAttacks = 2 } = options;
  const attacks = new ComparisonService({
    search,
    reader,
    attacks: new JobManager({ maxQueued: 2 * maxAttacks, device, modelsDir }),
    openBaseline: () => Embedder.open({ model: 'baseline', device, threads, modelsDir }),
    loadCorpusInput: async (record) => (await loadModelInput(corpus.originalPath(record), options.maxPixels)).pixels,
    modelsDir,
    maxActive: maxAttacks,
  });
  attacks.prepareBaseline(options.baselineWarmUpLimit);
  const app = createApp({ search, corpus, attacks, card: embedder.card, maxUploadBytes: options.maxUploadBytes });
  const host = options.host ?? '127.0.0.1';
  const timeouts = { ...DEFAULT_TIMEOUTS, ...options.timeouts };
  const server = createServer(
    {
      headersTimeout: timeouts.headersMs,
      requestTimeout: timeouts.requestMs,
      keepAliveTimeout: timeouts.keepAliveMs,
      connectionsCheckingInterval: timeouts.checkIntervalMs,
    },
    app,
  );
  server.listen(options.port, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    search,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
      await attacks.close();
      await embedder.close();
      await reader.close();
    },
  };
}
