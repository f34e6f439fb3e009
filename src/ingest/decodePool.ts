import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BadImageError } from './badImage.js';
import { probeImage } from './probe.js';

export interface DecodeJob {
  readonly id: number;
  /** The file's bytes (transferred to the worker, not copied). */
  readonly bytes: Uint8Array;
  readonly maxPixels: number;
  /** Where the worker writes the thumbnail (skipped if it exists); undefined: the result carries its bytes. */
  readonly thumbnail: string | undefined;
}

export type DecodeResult =
  | {
      readonly id: number;
      readonly ok: true;
      readonly pixels: Float32Array;
      readonly width: number;
      readonly height: number;
      readonly format: string;
      /** The WebP thumbnail, when the job gave no file to write it to. */
      readonly thumbnail?: Uint8Array;
    }
  | { readonly id: number; readonly ok: false; readonly reason: string };

export type Decoded = Omit<Extract<DecodeResult, { ok: true }>, 'id' | 'ok'>;

/**
 * Decoding holds about 3 bytes per pixel (more while libvips rotates); images above this size are decoded one
 * at a time, so memory stays bounded by one large image plus the workers' ordinary ones, whatever the folder.
 */
export const LARGE_IMAGE_PIXELS = 16_000_000;

/**
 * The ESM build of tsx's register API, resolved here (eval'd worker code would resolve from the cwd) through
 * tsx's exports map: import.meta.resolve is missing when tsx runs this module as CommonJS (under mocha), and
 * tsx's CommonJS build of this API cannot register its loader.
 */
function tsxEsmApi(): string {
  const packageFile = createRequire(import.meta.url).resolve('tsx/package.json');
  const { exports } = JSON.parse(readFileSync(packageFile, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(join(dirname(packageFile), exports['./esm/api'].import.default)).href;
}

/** Starts a worker from this folder; under tsx (a .ts module) it first registers tsx in the worker. */
function startWorker(name: string): Worker {
  const url = new URL(`./${name}${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
  if (!url.pathname.endsWith('.ts')) return new Worker(url);
  const boot = `import(${JSON.stringify(tsxEsmApi())}).then((tsx) => { tsx.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true });
}

/**
 * A fixed pool of decode workers. Each file is first probed here (content type and declared size: see
 * probe.ts); jobs are then spread over the least busy worker. `decode` resolves with the model input, or
 * rejects with BadImageError and the reason the file is not a usable image.
 */
export class DecodePool {
  private readonly workers: { worker: Worker; busy: number }[] = [];
  private readonly pending = new Map<number, { resolve: (r: DecodeResult) => void; reject: (e: Error) => void; worker: number }>();
  private nextId = 0;
  private failure: Error | undefined;
  private closing = false;
  /** Settles when the large decode in progress (if any) is done. */
  private largeTurn: Promise<void> = Promise.resolve();

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      const worker = startWorker('decodeWorker');
      worker.on('message', (result: DecodeResult) => this.settle(result));
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (!this.closing) this.fail(new Error(`a decode worker exited with code ${code}`));
      });
      this.workers.push({ worker, busy: 0 });
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /** Decodes `bytes` (which become unusable here: they are moved to the worker). */
  async decode(bytes: Uint8Array, maxPixels: number, thumbnail: string | undefined): Promise<Decoded> {
    const { pixels } = await probeImage(bytes, maxPixels);
    if (pixels <= LARGE_IMAGE_PIXELS) return this.post(bytes, maxPixels, thumbnail);
    const previous = this.largeTurn;
    let done!: () => void;
    this.largeTurn = new Promise((resolve) => (done = resolve));
    try {
      await previous;
      return await this.post(bytes, maxPixels, thumbnail);
    } finally {
      done();
    }
  }

  private post(bytes: Uint8Array, maxPixels: number, thumbnail: string | undefined): Promise<Decoded> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const index = this.workers.reduce((best, w, i) => (w.busy < this.workers[best].busy ? i : best), 0);
    const slot = this.workers[index];
    slot.busy++;
    return new Promise<DecodeResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject, worker: index });
      const job: DecodeJob = { id, bytes, maxPixels, thumbnail };
      slot.worker.postMessage(job, [bytes.buffer as ArrayBuffer]);
    }).then((result) => {
      if (!result.ok) throw new BadImageError(result.reason);
      return { pixels: result.pixels, width: result.width, height: result.height, format: result.format, thumbnail: result.thumbnail };
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  private settle(result: DecodeResult): void {
    const entry = this.pending.get(result.id);
    if (!entry) return;
    this.pending.delete(result.id);
    this.workers[entry.worker].busy--;
    entry.resolve(result);
  }

  /** A crashed worker is a bug, not a bad file: every waiting job (and the run) fails with it. */
  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = new Error(`a decode worker failed: ${err.message}`);
    for (const entry of this.pending.values()) entry.reject(this.failure);
    this.pending.clear();
  }
}
