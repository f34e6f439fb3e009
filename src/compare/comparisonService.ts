import { randomUUID } from 'node:crypto';
import {
  type AttackGoal,
  type AttackJobStatus,
  AttackQueueFullError,
  type AttackResult,
  type JobManager,
} from '../attack/index.js';
import { defaultModelsDir, loadModelCard, type ModelCard, type ModelName } from '../model/card.js';
import { toEightBit } from '../model/eightBit.js';
import type { Embedder } from '../model/embedder.js';
import { modelInputToPng } from '../model/modelInputPng.js';
import { ImageDecodeError, loadModelInput } from '../model/preprocess.js';
import type { IndexReader } from '../search/indexReader.js';
import { SearchError } from '../search/searchErrors.js';
import type { SearchService } from '../search/searchService.js';
import type { SearchOptions, SearchResult } from '../search/types.js';
import type { VectorMatrix } from '../search/vectorMatrix.js';
import type { ImageRecord } from '../store/types.js';
import { JobRegistry } from '../util/jobRegistry.js';
import { countOf } from '../util/words.js';
import { BaselineCorpus, rankExactly } from './baselineCorpus.js';
import { perturbationPng } from './perturbationImage.js';
import {
  type ComparisonImageName,
  type ComparisonParams,
  type ComparisonState,
  type ComparisonStatus,
  isFinishedComparison,
  type QuerySource,
  type RankedImage,
  type SideBefore,
  type SideOutcome,
  type SideState,
} from './types.js';
import { checkCertificate, checkNeighbourIntervals, checkSelfDistance } from './verdicts.js';

export interface ComparisonServiceOptions {
  /** The LipSim search engine: both the clean and the attacked query are searched through its upload path. */
  readonly search: SearchService;
  readonly reader: IndexReader;
  /** Runs the PGD attacks (worker threads); give it room for 2 × maxActive jobs. */
  readonly attacks: JobManager;
  readonly openBaseline: () => Promise<Embedder>;
  /** The model input of a corpus image, from its original file. */
  readonly loadCorpusInput: (record: ImageRecord) => Promise<Float32Array>;
  readonly modelsDir?: string;
  /** Comparisons preparing or running at once; one more is refused with AttackQueueFullError (default 2). */
  readonly maxActive?: number;
  /** Finished comparisons kept for their links (least recently used dropped first; default 32). */
  readonly keepFinished?: number;
}

export type ComparisonListener = (status: ComparisonStatus) => void;

/** Corpora up to this many images are embedded with the baseline model in the background at server start. */
export const BASELINE_WARM_UP_LIMIT = 10_000;

/** Where the baseline model's copy of the corpus stands, for the attack form. */
export type BaselineStatus =
  /** Not embedded yet: the next comparison does it first (once per server run). */
  | { readonly state: 'pending' }
  | { readonly state: 'embedding'; readonly embedded: number; readonly total: number }
  | { readonly state: 'ready' };

interface Side {
  readonly card: ModelCard;
  state: SideState;
  progress: AttackJobStatus['progress'];
  before: SideBefore | null;
  outcome: SideOutcome | null;
  error: string | null;
  attackId: string | null;
}

interface Job {
  readonly id: string;
  readonly params: ComparisonParams;
  state: ComparisonState;
  phase: string;
  error: string | null;
  readonly createdAt: number;
  finishedAt: number | null;
  cleanSha256: string | null;
  readonly sides: Record<ModelName, Side>;
  readonly images: Map<ComparisonImageName, Buffer>;
  cancelRequested: boolean;
  /** Aborted on cancel: ends waits that a cancel cannot stop at their source. */
  readonly stop: AbortController;
}

/** What a side needs to judge its attack: the clean query in model space and that model's corpus. */
interface SideContext {
  readonly clean: Float32Array;
  readonly cleanEmbedding: Float32Array;
  /** Vectors of corpus images of this model, by id. */
  readonly vectors: (ids: readonly number[]) => Promise<Map<number, Float32Array>>;
  /** The attacked query's answer: the ranked images and its embedding. */
  readonly answer: (adversarialPng: Buffer, adversarial: Float32Array) => Promise<{ results: RankedImage[]; embedding: Float32Array; sha256: string | null }>;
}

class Cancelled extends Error {}

const MODELS: readonly ModelName[] = ['lipsim', 'baseline'];

/**
 * Adversarial comparison jobs: one query, one attack budget, a PGD attack against LipSim and one against the
 * non-robust baseline, and for each what the attack changed against what LipSim's certificate (computed
 * before the attack) promised. The clean query is the 224×224 model input on the 8-bit grid and the attacks
 * stay on that grid, so both images are exact PNG files: the LipSim side is searched through the search
 * engine's own upload path, and re-uploading the adversarial PNG gives the same answer.
 */
export class ComparisonService {
  private readonly comparisons: JobRegistry<Job, ComparisonStatus>;
  private readonly cards: Record<ModelName, ModelCard>;
  private readonly maxActive: number;
  private baseline: Promise<BaselineCorpus> | undefined;
  /** The baseline corpus once its model is open (what baselineStatus reads). */
  private openedBaseline: BaselineCorpus | undefined;
  private closed = false;

  constructor(private readonly options: ComparisonServiceOptions) {
    const modelsDir = options.modelsDir ?? defaultModelsDir();
    this.cards = { lipsim: loadModelCard('lipsim', modelsDir), baseline: loadModelCard('baseline', modelsDir) };
    this.maxActive = options.maxActive ?? 2;
    this.comparisons = new JobRegistry({
      keepFinished: options.keepFinished ?? 32,
      status: (job) => this.status(job),
      isFinished: (job) => isFinishedComparison(job.state),
    });
  }

  /**
   * Checks the query and the target, then starts a comparison and returns its id. Throws SearchError for an
   * unknown image or an expired upload, AttackQueueFullError when maxActive comparisons are already running.
   */
  async start(params: ComparisonParams): Promise<string> {
    if (this.closed) throw new Error('the comparison service is closed');
    await this.checkParams(params);
    const active = [...this.comparisons.all()].filter((job) => !isFinishedComparison(job.state)).length;
    if (active >= this.maxActive) {
      throw new AttackQueueFullError(
        `the server is already running ${active} attack comparison${active === 1 ? '' : 's'} (at most ${this.maxActive} at once); try again when one finishes`,
      );
    }
    const side = (model: ModelName): Side => ({
      card: this.cards[model],
      state: 'waiting',
      progress: null,
      before: null,
      outcome: null,
      error: null,
      attackId: null,
    });
    const job: Job = {
      id: randomUUID(),
      params,
      state: 'preparing',
      phase: 'Preparing the query',
      error: null,
      createdAt: Date.now(),
      finishedAt: null,
      cleanSha256: null,
      sides: { lipsim: side('lipsim'), baseline: side('baseline') },
      images: new Map(),
      cancelRequested: false,
      stop: new AbortController(),
    };
    this.comparisons.add(job);
    void this.run(job);
    return job.id;
  }

  /**
   * Embeds the corpus with the baseline model in the background when it has at most `maxImages` images, so the
   * first comparison need not wait for it (a comparison started meanwhile waits and shows its progress).
   */
  prepareBaseline(maxImages = BASELINE_WARM_UP_LIMIT): void {
    const warmUp = async () => {
      const records = await this.searchableRecords();
      if (records.length === 0 || records.length > maxImages || this.closed) return;
      await (await this.baselineCorpus()).matrix(records);
    };
    warmUp().catch((err: unknown) => console.error('[lipsearch] embedding the corpus with the baseline model in the background failed:', err));
  }

  baselineStatus(): BaselineStatus {
    const corpus = this.openedBaseline;
    if (!corpus || (corpus.size === 0 && !corpus.progress)) return { state: 'pending' };
    const progress = corpus.progress;
    return progress ? { state: 'embedding', ...progress } : { state: 'ready' };
  }

  get(id: string): ComparisonStatus | undefined {
    return this.comparisons.get(id);
  }

  /** Calls `listener` now and on every change until the comparison ends; undefined for an unknown id. */
  subscribe(id: string, listener: ComparisonListener): (() => void) | undefined {
    return this.comparisons.subscribe(id, listener);
  }

  /** Stops a comparison (its attacks within a step). False when unknown, finished or already cancelling. */
  cancel(id: string): boolean {
    const job = this.comparisons.job(id);
    if (!job || isFinishedComparison(job.state) || job.cancelRequested) return false;
    job.cancelRequested = true;
    job.stop.abort();
    job.phase = 'Cancelling';
    for (const side of Object.values(job.sides)) if (side.attackId) this.options.attacks.cancel(side.attackId);
    this.comparisons.notify(job);
    return true;
  }

  /** A PNG of a comparison (clean query, adversarial images, amplified perturbations), once made. */
  image(id: string, name: ComparisonImageName): Buffer | undefined {
    return this.comparisons.job(id)?.images.get(name);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const { id } of this.comparisons.all()) this.cancel(id);
    await this.options.attacks.close();
    const baseline = await this.baseline?.catch(() => undefined);
    await baseline?.close();
  }

  private async checkParams(params: ComparisonParams): Promise<void> {
    const { query, goal, target } = params;
    const store = this.options.reader.store;
    await this.options.reader.current();
    if (query.kind === 'image' && !(await store.getImage(query.id))) throw new SearchError('invalid', 'unknown_image', `no image with id ${query.id}`);
    if (query.kind === 'upload') this.options.search.cachedUpload(query.sha256); // 404 or 410 when not kept
    if (goal === 'targeted') {
      if (target === null || !(await store.getVector(target))) {
        throw new SearchError('invalid', 'invalid_target', `a targeted attack needs the id of an indexed corpus image as its target`);
      }
      if (query.kind === 'image' && target === query.id) {
        throw new SearchError('invalid', 'invalid_target', 'the target must be another image than the query');
      }
    }
  }

  private async run(job: Job): Promise<void> {
    const { params } = job;
    const { lipsim, baseline } = job.sides;
    try {
      const clean = toEightBit(await this.queryInput(params.query));
      const cleanPng = await modelInputToPng(clean);
      job.images.set('clean', cleanPng);
      this.setPhase(job, 'Searching with the clean query');

      const lipsimClean = await this.searchUpload(cleanPng, params.k);
      job.cleanSha256 = lipsimClean.sha256;
      const certificate = lipsimClean.result.certificate;
      lipsim.before = {
        results: lipsimClean.results,
        compared: certificate?.compared ?? lipsimClean.result.corpusSize,
        radii: certificate && { scope: certificate.scope, top1: certificate.modelInput.top1, topkSet: certificate.modelInput.topkSet },
      };
      this.setPhase(job, 'Embedding the corpus with the baseline model');

      const corpus = await this.baselineCorpus();
      // The embedding is shared (the one started with the server, or another comparison's): a cancelled job
      // stops waiting for it, and it goes on for the next comparison.
      const baselineVectors = corpus.matrix(await this.searchableRecords(), ({ embedded, total }) => {
        if (!job.cancelRequested) {
          this.setPhase(job, `Embedding the corpus with the baseline model (${embedded} of ${countOf(total, 'image')}; once per server run)`);
        }
      });
      const { matrix } = await unlessCancelled(baselineVectors, job.stop.signal);
      const baselineClean = await corpus.embed(clean);
      baseline.before = { results: await this.rankBaseline(matrix, baselineClean, params.k), compared: matrix.size, radii: null };
      this.throwIfCancelled(job);

      job.state = 'running';
      this.setPhase(job, 'Attacking both models');
      const contexts: Record<ModelName, SideContext> = {
        lipsim: {
          clean,
          cleanEmbedding: lipsimClean.embedding,
          vectors: (ids) => this.options.reader.store.getVectors(ids),
          answer: async (png) => this.searchUpload(png, params.k),
        },
        baseline: {
          clean,
          cleanEmbedding: baselineClean,
          vectors: async (ids) => matrixVectors(matrix, ids),
          answer: async (_png, adversarial) => {
            const embedding = await corpus.embed(adversarial);
            return { results: await this.rankBaseline(matrix, embedding, params.k), embedding, sha256: null };
          },
        },
      };
      await Promise.all(MODELS.map((model) => this.attackSide(job, model, contexts[model])));
      const failed = MODELS.map((m) => job.sides[m]).find((s) => s.state === 'failed');
      if (MODELS.every((m) => job.sides[m].state === 'done')) this.finish(job, 'done');
      else if (job.cancelRequested) this.finish(job, 'cancelled');
      else this.finish(job, 'failed', failed?.error ?? 'an attack did not finish');
    } catch (err) {
      if (err instanceof Cancelled || job.cancelRequested) this.finish(job, 'cancelled');
      else this.finish(job, 'failed', clientMessage(err));
    }
  }

  /** Runs one model's attack and judges it; never rejects (a failure is the side's state). */
  private async attackSide(job: Job, model: ModelName, context: SideContext): Promise<void> {
    const side = job.sides[model];
    const { params } = job;
    // The goal reads stored vectors (asynchronously); a failure here fails the side like one in start().
    const goal = await this.goal(job, model, context).catch((err: unknown) => err instanceof Error ? err : new Error(String(err)));
    return new Promise((resolve) => {
      const fail = (message: string) => {
        side.state = 'failed';
        side.error = message;
        resolve();
      };
      let attackId: string;
      try {
        if (goal instanceof Error) throw goal;
        attackId = this.options.attacks.start({
          model,
          pixels: context.clean,
          norm: params.norm,
          epsilon: params.epsilon,
          steps: params.steps,
          goal,
          eightBit: true,
        });
      } catch (err) {
        return fail(clientMessage(err));
      }
      side.attackId = attackId;
      if (job.cancelRequested) this.options.attacks.cancel(attackId);
      this.options.attacks.subscribe(attackId, (status) => {
        side.progress = status.progress;
        if (status.state === 'done') {
          side.state = 'running'; // until judged
          this.judge(job, model, context, status.result!)
            .then((outcome) => {
              side.outcome = outcome;
              side.state = 'done';
              resolve();
            })
            .catch((err: unknown) => fail(clientMessage(err)))
            .finally(() => this.comparisons.notify(job));
          return;
        }
        side.state = status.state;
        if (status.state === 'failed') fail(`the attack failed: ${status.error}`);
        else if (status.state === 'cancelled') resolve();
        this.comparisons.notify(job);
      });
    });
  }

  /**
   * Targeted: pull towards the target's embedding under this model, stopping once it overtakes every image
   * of this model's clean answer (the answer after the attack is then searched in full).
   */
  private async goal(job: Job, model: ModelName, context: SideContext): Promise<AttackGoal> {
    const { goal, target } = job.params;
    if (goal === 'untargeted' || target === null) return { kind: 'untargeted' };
    const rivalIds = (job.sides[model].before?.results ?? []).map((r) => r.id).filter((id) => id !== target);
    const vectors = await context.vectors([target, ...rivalIds]);
    const targetVector = vectors.get(target);
    if (!targetVector) throw new SearchError('gone', 'original_unavailable', `the original file of target image ${target} is unavailable`);
    // Copies: a view into a larger buffer would be posted to the worker whole.
    const rivals = rivalIds.flatMap((id) => (vectors.has(id) ? [vectors.get(id)!.slice()] : []));
    return { kind: 'targeted', target: targetVector.slice(), rivals };
  }

  private async judge(job: Job, model: ModelName, context: SideContext, result: AttackResult): Promise<SideOutcome> {
    const side = job.sides[model];
    const before = side.before!;
    const png = await modelInputToPng(result.adversarial);
    job.images.set(`${model}-adversarial`, png);
    const perturbation = await perturbationPng(context.clean, result.adversarial);
    job.images.set(`${model}-perturbation`, perturbation.png);
    const answer = await context.answer(png, result.adversarial);

    const l2 = result.norms.l2;
    const ids = (list: readonly RankedImage[]) => list.map((r) => r.id);
    const top1Changed = answer.results[0]?.id !== before.results[0]?.id;
    const afterIds = new Set(ids(answer.results));
    const topkSetChanged = afterIds.size !== before.results.length || before.results.some((r) => !afterIds.has(r.id));
    const vectors = await context.vectors(ids(before.results));
    const neighbours = before.results.flatMap((r) => (vectors.has(r.id) ? [{ id: r.id, vector: vectors.get(r.id)! }] : []));
    return {
      norms: result.norms,
      stepsRun: result.stepsRun,
      stopReason: result.stopReason,
      goalReached: result.goalReached,
      self: checkSelfDistance(context.cleanEmbedding, answer.embedding, l2),
      after: answer.results,
      top1Changed,
      topkSetChanged,
      certificate: before.radii && {
        top1: checkCertificate(before.radii.top1, l2, top1Changed),
        topkSet: checkCertificate(before.radii.topkSet, l2, topkSetChanged),
      },
      neighbours: checkNeighbourIntervals(context.cleanEmbedding, answer.embedding, neighbours, l2),
      perturbationGain: perturbation.gain,
      searchSha256: answer.sha256,
    };
  }

  /** The query as a float model input (decoded and resized like any upload or ingest). */
  private async queryInput(query: QuerySource): Promise<Float32Array> {
    if (query.kind === 'upload') return (await loadModelInput(this.options.search.cachedUpload(query.sha256).bytes)).pixels;
    const record = await this.options.reader.store.getImage(query.id);
    if (!record) throw new SearchError('not_found', 'not_found', `no image with id ${query.id}`);
    return this.options.loadCorpusInput(record);
  }

  /** A LipSim search through the engine's upload path (the same path a re-upload of the PNG takes). */
  private async searchUpload(png: Buffer, k: number) {
    const options: SearchOptions = { k, offset: 0, epsilon: 0, copyCheck: false };
    const result = await this.options.search.byUpload(png, options);
    if (result.query.kind !== 'upload') throw new Error('upload search returned another query kind');
    const { sha256 } = result.query;
    return { result, sha256, results: rankedHits(result), embedding: this.options.search.cachedUpload(sha256).embedding };
  }

  private async rankBaseline(matrix: VectorMatrix, query: Float32Array, k: number): Promise<RankedImage[]> {
    const { nearest } = rankExactly(matrix, query, k);
    const records = new Map((await this.options.reader.store.getImages(nearest.map((n) => n.id))).map((r) => [r.id, r]));
    return nearest.flatMap((n, i) => {
      const image = records.get(n.id);
      return image ? [{ rank: i + 1, id: n.id, distance: n.distance, image }] : [];
    });
  }

  private async searchableRecords(): Promise<ImageRecord[]> {
    const snapshot = await this.options.reader.current();
    const ids = snapshot.matrix ? [...snapshot.matrix.ids] : await this.options.reader.store.vectorIds();
    return this.options.reader.store.getImages(ids);
  }

  private baselineCorpus(): Promise<BaselineCorpus> {
    this.baseline ??= this.options.openBaseline().then((embedder) => {
      this.openedBaseline = new BaselineCorpus(embedder, this.options.loadCorpusInput);
      return this.openedBaseline;
    });
    this.baseline.catch(() => (this.baseline = undefined)); // a failed open is retried by the next comparison
    return this.baseline;
  }

  private throwIfCancelled(job: Job): void {
    if (job.cancelRequested) throw new Cancelled();
  }

  private setPhase(job: Job, phase: string): void {
    this.throwIfCancelled(job);
    job.phase = phase;
    this.comparisons.notify(job);
  }

  private finish(job: Job, state: 'done' | 'failed' | 'cancelled', error: string | null = null): void {
    job.state = state;
    job.error = error;
    job.phase = { done: 'Finished', failed: 'Failed', cancelled: 'Cancelled' }[state];
    job.finishedAt = Date.now();
    for (const side of Object.values(job.sides)) {
      if (side.state === 'waiting' || side.state === 'queued' || side.state === 'running') side.state = state === 'failed' ? 'failed' : 'cancelled';
    }
    this.comparisons.ended(job);
  }

  private status(job: Job): ComparisonStatus {
    return {
      id: job.id,
      params: job.params,
      state: job.state,
      phase: job.phase,
      error: job.error,
      createdAt: job.createdAt,
      finishedAt: job.finishedAt,
      cleanSha256: job.cleanSha256,
      sides: MODELS.map((model) => {
        const { card, state, progress, before, outcome, error } = job.sides[model];
        return { model, version: card.version, robust: card.robust, state, progress, before, outcome, error };
      }),
    };
  }
}

/** `work`'s result, or Cancelled as soon as `signal` aborts (the work itself goes on). */
function unlessCancelled<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const cancelled = () => reject(new Cancelled());
    if (signal.aborted) cancelled();
    signal.addEventListener('abort', cancelled, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', cancelled));
  });
}

function matrixVectors(matrix: VectorMatrix, ids: readonly number[]): Map<number, Float32Array> {
  const found = new Map<number, Float32Array>();
  for (const id of ids) {
    const vector = matrix.vector(id);
    if (vector) found.set(id, vector);
  }
  return found;
}

function rankedHits(result: SearchResult): RankedImage[] {
  return result.hits.map((hit) => ({ rank: hit.rank, id: hit.id, distance: hit.distance, image: hit.image }));
}

/** Errors written for users keep their message; anything else is logged and summarised. */
function clientMessage(err: unknown): string {
  if (err instanceof SearchError || err instanceof ImageDecodeError || err instanceof AttackQueueFullError) return err.message;
  console.error('[lipsearch] attack comparison failed:', err);
  return 'the comparison failed on our side';
}
