import { randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { defaultModelsDir, loadModelCard } from '../model/card.js';
import type { Device } from '../model/session.js';
import { JobRegistry } from '../util/jobRegistry.js';
import { AttackQueueFullError } from './errors.js';
import type { AttackProgress, AttackResult } from './pgd.js';
import { resolveAttackRequest, type AttackRequest } from './request.js';
import type { AttackWorkerConfig, FromWorker, ToWorker } from './workerProtocol.js';

export type AttackJobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

export interface AttackJobStatus {
  readonly id: string;
  readonly state: AttackJobState;
  /** Jobs ahead of this one while queued (0: next to run); null otherwise. */
  readonly queuePosition: number | null;
  readonly progress: AttackProgress | null;
  readonly result: AttackResult | null;
  readonly error: string | null;
  readonly createdAt: number;
  readonly startedAt: number | null;
  readonly finishedAt: number | null;
}

export type AttackJobListener = (status: AttackJobStatus) => void;

export interface JobManagerOptions {
  /** Attacks running at once, one worker thread each (default: os.availableParallelism()). */
  readonly concurrency?: number;
  /** Attacks waiting for a worker; beyond it start() throws AttackQueueFullError (default 2 × concurrency). */
  readonly maxQueued?: number;
  /** Finished jobs kept for get() (least recently used dropped first; default 32). */
  readonly keepFinished?: number;
  readonly modelsDir?: string;
  readonly device?: Device;
}

interface Job {
  readonly id: string;
  readonly request: AttackRequest;
  state: AttackJobState;
  progress: AttackProgress | null;
  result: AttackResult | null;
  error: string | null;
  readonly createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  detachSignal: () => void;
  /** Running, and asked to stop: it becomes 'cancelled' when its worker has stopped. */
  cancelRequested: boolean;
}

interface PoolWorker {
  readonly worker: Worker;
  job: Job | null;
}

const isFinished = (state: AttackJobState) => state === 'done' || state === 'failed' || state === 'cancelled';

// Running from TypeScript sources (tsx), a worker first needs tsx registered in its own thread.
const moduleExtension = extname(fileURLToPath(import.meta.url));
const workerEntry = new URL(`./attackWorker${moduleExtension}`, import.meta.url);

function spawnWorker(config: AttackWorkerConfig): Worker {
  if (moduleExtension !== '.ts') return new Worker(workerEntry, { workerData: config });
  const bootstrap = new URL('./tsxWorkerBootstrap.mjs', import.meta.url);
  return new Worker(bootstrap, { workerData: { ...config, entry: workerEntry.href } });
}

/**
 * Runs PGD attacks off the request thread: at most `concurrency` at once (one worker thread and core each),
 * a bounded queue behind them, progress streamed to subscribers, results kept in a bounded LRU so that a job
 * id stays linkable for a while.
 */
export class JobManager {
  private readonly concurrency: number;
  private readonly maxQueued: number;
  private readonly workerConfig: AttackWorkerConfig;
  private readonly modelsDir: string;
  private readonly jobs: JobRegistry<Job, AttackJobStatus>;
  private readonly queue: Job[] = [];
  private readonly pool: PoolWorker[] = [];
  private closed = false;

  constructor(options: JobManagerOptions = {}) {
    this.concurrency = options.concurrency ?? availableParallelism();
    this.maxQueued = options.maxQueued ?? 2 * this.concurrency;
    this.jobs = new JobRegistry({
      keepFinished: options.keepFinished ?? 32,
      status: (job) => this.status(job),
      isFinished: (job) => isFinished(job.state),
    });
    if (!(Number.isInteger(this.concurrency) && this.concurrency >= 1)) throw new RangeError('concurrency must be ≥ 1');
    if (!(Number.isInteger(this.maxQueued) && this.maxQueued >= 0)) throw new RangeError('maxQueued must be ≥ 0');
    this.modelsDir = options.modelsDir ?? defaultModelsDir();
    this.workerConfig = { modelsDir: this.modelsDir, device: options.device ?? 'cpu' };
  }

  /**
   * Validates and enqueues an attack; returns its job id. Throws AttackRequestError for a bad request and
   * AttackQueueFullError when every worker is busy and the queue is full. Aborting `signal` cancels the job.
   */
  start(request: AttackRequest, options: { readonly signal?: AbortSignal } = {}): string {
    if (this.closed) throw new Error('the attack job manager is closed');
    resolveAttackRequest(request, (model) => loadModelCard(model, this.modelsDir).embeddingDim);
    const busy = this.pool.filter((w) => w.job).length;
    if (busy >= this.concurrency && this.queue.length >= this.maxQueued) {
      throw new AttackQueueFullError(
        `the server is already running ${this.concurrency} attacks with ${this.queue.length} waiting; try again when one finishes`,
      );
    }
    const job: Job = {
      id: randomUUID(),
      request,
      state: 'queued',
      progress: null,
      result: null,
      error: null,
      createdAt: Date.now(),
      startedAt: null,
      finishedAt: null,
      detachSignal: () => {},
      cancelRequested: false,
    };
    this.jobs.add(job);
    this.queue.push(job);
    const { signal } = options;
    if (signal) {
      const onAbort = () => this.cancel(job.id);
      signal.addEventListener('abort', onAbort, { once: true });
      job.detachSignal = () => signal.removeEventListener('abort', onAbort);
      if (signal.aborted) onAbort();
    }
    this.dispatch();
    return job.id;
  }

  get(id: string): AttackJobStatus | undefined {
    return this.jobs.get(id);
  }

  /** Calls `listener` now and on every change (progress, state) until the job finishes; undefined for an unknown job. */
  subscribe(id: string, listener: AttackJobListener): (() => void) | undefined {
    return this.jobs.subscribe(id, listener);
  }

  /**
   * Cancels a job: a queued one at once, a running one within a step (its state turns 'cancelled' when the
   * worker has stopped, and the core is free again). False when unknown or already finished.
   */
  cancel(id: string): boolean {
    const job = this.jobs.job(id);
    if (!job || isFinished(job.state) || job.cancelRequested) return false;
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.finish(job, 'cancelled');
      this.notifyQueued();
    } else {
      job.cancelRequested = true;
      this.pool.find((w) => w.job === job)?.worker.postMessage({ type: 'cancel', jobId: id } satisfies ToWorker);
    }
    return true;
  }

  /** Cancels everything and stops the workers (each releases its models first). */
  async close(): Promise<void> {
    this.closed = true;
    for (const job of this.queue.splice(0)) this.finish(job, 'cancelled');
    const workers = this.pool.splice(0);
    for (const { job } of workers) if (job) this.finish(job, 'cancelled');
    await Promise.all(
      workers.map(({ worker }) => {
        const exited = new Promise((resolve) => worker.once('exit', resolve));
        worker.ref(); // wait for it even if nothing else keeps the process alive
        worker.postMessage({ type: 'close' } satisfies ToWorker);
        return exited;
      }),
    );
  }

  private status(job: Job): AttackJobStatus {
    const position = this.queue.indexOf(job);
    return {
      id: job.id,
      state: job.state,
      queuePosition: position >= 0 ? position : null,
      progress: job.progress,
      result: job.result,
      error: job.error,
      createdAt: job.createdAt,
      startedAt: job.startedAt,
      finishedAt: job.finishedAt,
    };
  }

  private notifyQueued(): void {
    for (const job of this.queue) this.jobs.notify(job);
  }

  private finish(job: Job, state: 'done' | 'failed' | 'cancelled', outcome: { result?: AttackResult; error?: string } = {}): void {
    job.state = state;
    job.result = outcome.result ?? null;
    job.error = outcome.error ?? null;
    job.finishedAt = Date.now();
    job.detachSignal();
    this.jobs.ended(job);
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const worker = this.pool.find((w) => !w.job) ?? (this.pool.length < this.concurrency ? this.addWorker() : null);
      if (!worker) return;
      const job = this.queue.shift()!;
      worker.job = job;
      worker.worker.ref(); // keep the process alive while an attack runs
      job.state = 'running';
      job.startedAt = Date.now();
      worker.worker.postMessage({ type: 'run', jobId: job.id, request: job.request } satisfies ToWorker);
      this.jobs.notify(job);
      this.notifyQueued();
    }
  }

  private addWorker(): PoolWorker {
    const entry: PoolWorker = { worker: spawnWorker(this.workerConfig), job: null };
    entry.worker.on('message', (message: FromWorker) => this.onMessage(entry, message));
    // A crashed worker fails its job and leaves the pool; the next job gets a fresh one.
    const onCrash = (reason: string) => {
      const index = this.pool.indexOf(entry);
      if (index < 0) return;
      this.pool.splice(index, 1);
      if (entry.job && !isFinished(entry.job.state)) this.finish(entry.job, 'failed', { error: `attack worker ${reason}` });
      if (!this.closed) this.dispatch();
    };
    entry.worker.on('error', (err) => onCrash(`crashed: ${err.message}`));
    entry.worker.on('exit', (code) => onCrash(`exited with code ${code}`));
    this.pool.push(entry);
    return entry;
  }

  private onMessage(entry: PoolWorker, message: FromWorker): void {
    const job = entry.job;
    if (!job || job.id !== message.jobId) return;
    if (message.type === 'progress') {
      if (job.cancelRequested) return;
      job.progress = message.progress;
      this.jobs.notify(job);
      return;
    }
    entry.job = null;
    entry.worker.unref(); // an idle worker must not keep the process alive
    if (job.cancelRequested || message.type === 'cancelled') this.finish(job, 'cancelled');
    else if (message.type === 'done') this.finish(job, 'done', { result: message.result });
    else this.finish(job, 'failed', { error: message.message });
    this.dispatch();
  }
}
