import { performance } from 'node:perf_hooks';
import {
  type AnswerCertificate,
  type ScoredItem,
  certificateInImageSpace,
  certifyAnswer,
  checkCopies,
  cosineDistance,
  distanceBounds,
} from '../certify/index.js';
import { ACCEPTED_FORMATS, describeOtherContent, sniffRasterFormat } from '../ingest/probe.js';
import type { Embedder } from '../model/embedder.js';
import { DEFAULT_MAX_PIXELS, decodeImage, toModelInput } from '../model/preprocess.js';
import type { IndexReader, IndexSnapshot } from './indexReader.js';
import { type CachedQuery, QueryImageCache, sha256Hex } from './queryImageCache.js';
import { SearchError, unknownImage } from './searchErrors.js';
import type { QueryDescription, Radii, SearchCertificate, SearchHit, SearchOptions, SearchResult, SearchTimings } from './types.js';
import { type VectorMatrix, countWithin, nearestRows } from './vectorMatrix.js';

/** Scored items beyond the answer: their exact pair radii make the set radius tighter than D alone. */
export const DEFAULT_CHALLENGERS = 20;
/** hnswlib search breadth never below this (its recall drops fast for small ef). */
const MIN_EF = 64;
/** Most possible copies a copy check lists (beyond it the answer says the list is incomplete). */
const MAX_LISTED_COPIES = 100;

/** How long embedding the query took, and whether an earlier request (the upload itself) spent that time. */
interface EmbedTime {
  readonly ms: number;
  readonly earlier: boolean;
}

const NOTHING_EMBEDDED: EmbedTime = { ms: 0, earlier: false };

/** The answer's timings: search is whatever this request spent beyond embedding and the certificate. */
function timings(wallMs: number, embed: EmbedTime, certifyMs: number): SearchTimings {
  const searchMs = Math.max(0, wallMs - (embed.earlier ? 0 : embed.ms) - certifyMs);
  return { embedMs: embed.ms, embeddedEarlier: embed.earlier, searchMs, certifyMs, totalMs: embed.ms + searchMs + certifyMs };
}

export interface SearchServiceOptions {
  readonly challengers?: number;
  /** Largest decoded upload, in pixels (decompression bombs). */
  readonly maxPixels?: number;
  readonly queryCache?: QueryImageCache;
}

interface Ranked {
  readonly items: ScoredItem[];
  /** D for certify (exact scope), undefined in index scope. */
  readonly otherDistanceLowerBound: number | undefined;
  readonly compared: number;
  readonly indexRecall: number | null;
  /** The exact scan (exact scope): the matrix and the distance of the query to each of its rows. */
  readonly scan?: { readonly matrix: VectorMatrix; readonly distances: Float64Array };
}

/**
 * The query engine: HNSW candidates, exact re-ranking with the stored vectors, and certificates from the
 * exact distances (src/certify). While the corpus fits the exact-scan limit the snapshot keeps every vector
 * in one matrix; the scan then proves the list is the true top list (scope `exact`) and gives D, the lower
 * bound on every other distance. Larger corpora are certified against the scored candidates (scope `index`).
 */
export class SearchService {
  readonly queryCache: QueryImageCache;
  private readonly challengers: number;
  private readonly maxPixels: number;

  constructor(
    private readonly reader: IndexReader,
    private readonly embedder: Embedder,
    options: SearchServiceOptions = {},
  ) {
    this.challengers = options.challengers ?? DEFAULT_CHALLENGERS;
    this.maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
    this.queryCache = options.queryCache ?? new QueryImageCache();
  }

  get model(): { name: string; version: string } {
    return { name: this.embedder.card.name, version: this.embedder.card.version };
  }

  /** Neighbours of a corpus image, from its stored vector. */
  async byId(id: number, options: SearchOptions): Promise<SearchResult> {
    const started = performance.now();
    const snapshot = await this.usableSnapshot();
    const image = await this.reader.store.getImage(id);
    if (!image) throw unknownImage(id);
    const vector = snapshot.matrix?.vector(id) ?? (await this.reader.store.getVector(id));
    if (!vector) {
      throw new SearchError('conflict', 'not_embedded', `image ${id} is not embedded yet; try again when the ingest has finished`);
    }
    return this.run(snapshot, vector, { kind: 'image', id, image }, options, started, NOTHING_EMBEDDED);
  }

  /** Decodes, embeds and caches an uploaded image, then searches with it. */
  async byUpload(bytes: Buffer, options: SearchOptions): Promise<SearchResult> {
    const started = performance.now();
    const snapshot = await this.usableSnapshot();
    const sha256 = sha256Hex(bytes);
    const cached = this.queryCache.get(sha256);
    if (cached) return this.run(snapshot, cached.embedding, describeUpload(cached), options, started, { ms: cached.embedMs, earlier: true });
    // Only the raster formats the ingest takes reach a decoder: an SVG renderer could read other files.
    if (!sniffRasterFormat(bytes)) {
      throw new SearchError('invalid', 'invalid_image', `not an image we can search with (${describeOtherContent(bytes)}); upload ${ACCEPTED_FORMATS}`);
    }
    const embedStart = performance.now();
    const decoded = await decodeImage(bytes, this.maxPixels);
    const input = toModelInput(decoded);
    const [embedding] = await this.embedder.embed([input.pixels]);
    const embedMs = performance.now() - embedStart;
    const query: CachedQuery = {
      sha256,
      bytes,
      format: decoded.format,
      width: decoded.photo.width,
      height: decoded.photo.height,
      decoded: { width: decoded.width, height: decoded.height },
      embedding,
      resizeNorm: input.resizeNorm,
      embedMs,
    };
    this.queryCache.put(query);
    return this.run(snapshot, embedding, describeUpload(query), options, started, { ms: embedMs, earlier: false });
  }

  /** Searches again with an earlier upload (another ε, another page) without sending it again. */
  async byCachedUpload(sha256: string, options: SearchOptions): Promise<SearchResult> {
    const started = performance.now();
    const snapshot = await this.usableSnapshot();
    const cached = this.cachedUpload(sha256);
    return this.run(snapshot, cached.embedding, describeUpload(cached), options, started, { ms: cached.embedMs, earlier: true });
  }

  /** An earlier upload: 410 when it was kept and has been dropped since, 404 when the server has no record of it. */
  cachedUpload(sha256: string): CachedQuery {
    const cached = this.queryCache.get(sha256);
    if (cached) return cached;
    if (this.queryCache.wasDropped(sha256)) {
      throw new SearchError('gone', 'upload_expired', 'this uploaded query is no longer kept on the server (it keeps the most recent uploads only); upload the image again');
    }
    throw new SearchError(
      'not_found',
      'upload_not_found',
      'no upload with this address is kept on this server: it was never uploaded here, or before the server restarted (or too long ago to remember); upload the image again',
    );
  }

  /** Searches with a raw embedding: it must have the model's dimension; it is normalised to unit length. */
  async byVector(values: unknown, options: SearchOptions): Promise<SearchResult> {
    const started = performance.now();
    const snapshot = await this.usableSnapshot();
    const dim = this.embedder.dim;
    if (!Array.isArray(values) || values.length !== dim || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw new SearchError('invalid', 'invalid_vector', `vector must be an array of ${dim} finite numbers`);
    }
    const norm = Math.hypot(...values);
    if (!(norm > 1e-12)) throw new SearchError('invalid', 'invalid_vector', 'vector must not be zero');
    const unit = Float32Array.from(values, (v) => v / norm);
    return this.run(snapshot, unit, { kind: 'vector' }, options, started, NOTHING_EMBEDDED);
  }

  /** The snapshot to search, refused when its vectors come from another model than the loaded one. */
  private async usableSnapshot(): Promise<IndexSnapshot> {
    const snapshot = await this.reader.current();
    const meta = snapshot.meta;
    if (meta && meta.modelVersion !== this.embedder.card.version) {
      throw new SearchError(
        'conflict',
        'model_mismatch',
        `this index was built with model ${meta.modelName} ${meta.modelVersion.slice(0, 12)}, but the server runs ` +
          `${this.embedder.card.name} ${this.embedder.card.version.slice(0, 12)}: re-run the ingest to re-embed, or serve with the index's model`,
      );
    }
    return snapshot;
  }

  private async run(
    snapshot: IndexSnapshot,
    query: Float32Array,
    description: QueryDescription,
    options: SearchOptions,
    started: number,
    embed: EmbedTime,
  ): Promise<SearchResult> {
    const answerSize = options.offset + options.k;
    const ranked = await this.rank(snapshot, query, answerSize + this.challengers);
    const topK = ranked.items.slice(0, answerSize);

    const certifyStart = performance.now();
    const answer =
      topK.length === 0
        ? undefined
        : certifyAnswer({
            query,
            topK,
            challengers: ranked.items.slice(answerSize),
            otherDistanceLowerBound: ranked.otherDistanceLowerBound,
          });
    const certificate = answer ? this.certificate(answer, query, ranked, description, options) : null;
    const certifyMs = performance.now() - certifyStart;

    const page = topK.slice(options.offset);
    const images = new Map((await this.reader.store.getImages(page.map((item) => item.id))).map((r) => [r.id, r]));
    const hits = page.flatMap((item, i): SearchHit[] => {
      const image = images.get(item.id);
      if (!image || !answer) return []; // removed by an ingest since the snapshot: never show a dangling result
      const distance = answer.distances[options.offset + i];
      const { lower, upper } = distanceBounds(distance, options.epsilon);
      return [{ rank: options.offset + i + 1, id: item.id, distance, cosine: 1 - distance, bound: { lower, upper }, image }];
    });
    return {
      query: description,
      options,
      model: this.model,
      corpusSize: snapshot.vectorCount,
      hits,
      certificate,
      timings: timings(performance.now() - started, embed, certifyMs),
    };
  }

  /**
   * The `count` nearest stored vectors with exact distances. HNSW proposes candidates; with the snapshot's
   * matrix an exact scan then proves the list (replacing any candidate the graph got wrong) and gives D.
   */
  private async rank(snapshot: IndexSnapshot, query: Float32Array, count: number): Promise<Ranked> {
    const { matrix, index } = snapshot;
    if (!index || snapshot.vectorCount === 0) return { items: [], otherDistanceLowerBound: undefined, compared: 0, indexRecall: null };
    const candidates = await index.search(query, count, Math.max(MIN_EF, count));
    if (matrix) {
      const distances = matrix.distancesTo(query);
      const scan = nearestRows(matrix, distances, count);
      const proposed = new Set(candidates.map((c) => c.id));
      const found = scan.nearest.filter(({ id }) => proposed.has(id)).length;
      return {
        items: scan.nearest.map(({ id }) => ({ id, vector: matrix.vector(id)! })),
        otherDistanceLowerBound: scan.restLowerBound,
        compared: matrix.size,
        indexRecall: scan.nearest.length === 0 ? 1 : found / scan.nearest.length,
        scan: { matrix, distances },
      };
    }
    const vectors = await this.reader.store.getVectors(candidates.map((c) => c.id));
    const items = candidates
      .flatMap(({ id }) => {
        const vector = vectors.get(id);
        return vector ? [{ id, vector, distance: cosineDistance(query, vector) }] : [];
      })
      .sort((a, b) => a.distance - b.distance || a.id - b.id);
    return { items: items.map(({ id, vector }) => ({ id, vector })), otherDistanceLowerBound: undefined, compared: items.length, indexRecall: null };
  }

  private certificate(
    answer: AnswerCertificate,
    query: Float32Array,
    ranked: Ranked,
    description: QueryDescription,
    options: SearchOptions,
  ): SearchCertificate {
    const D = ranked.otherDistanceLowerBound;
    return {
      scope: answer.scope,
      compared: ranked.compared,
      indexRecall: ranked.indexRecall,
      answerSize: answer.distances.length,
      modelInput: radiiOf(answer),
      imagePixels:
        description.kind === 'upload'
          ? { ...radiiOf(certificateInImageSpace(answer, description.resizeNorm)), resizeNorm: description.resizeNorm, ...description.decoded }
          : null,
      limitedBy: answer.limitedBy,
      otherDistanceLowerBound: D === undefined || D === Infinity ? null : D,
      epsilon: options.epsilon,
      copyCheck: options.copyCheck ? copyCheck(query, ranked, options.epsilon) : null,
    };
  }
}

/**
 * The certified copy check. With the exact scan, every image within the copy threshold ε²/2 is scored (up to
 * MAX_LISTED_COPIES), so D exceeds the threshold and the list is complete; otherwise only scored items are
 * listed and the list is complete only when D proves no other image is close enough.
 */
function copyCheck(query: Float32Array, ranked: Ranked, epsilon: number): NonNullable<SearchCertificate['copyCheck']> {
  let candidates = ranked.items;
  let D = ranked.otherDistanceLowerBound;
  if (ranked.scan) {
    const { matrix, distances } = ranked.scan;
    const within = nearestRows(matrix, distances, Math.min(MAX_LISTED_COPIES, countWithin(distances, (epsilon * epsilon) / 2)));
    candidates = within.nearest.map(({ id }) => ({ id, vector: matrix.vector(id)! }));
    D = within.restLowerBound;
  }
  const check = checkCopies({ query, candidates, epsilon, otherDistanceLowerBound: D });
  return { ...check, complete: D !== undefined && D > check.distanceThreshold };
}

function radiiOf(answer: AnswerCertificate): Radii {
  return { top1: answer.top1Radius, topkSet: answer.topkSetRadius, topkOrder: answer.topkOrderRadius };
}

function describeUpload(cached: CachedQuery): QueryDescription {
  const { sha256, width, height, format, decoded, resizeNorm } = cached;
  return { kind: 'upload', sha256, width, height, format, decoded, resizeNorm };
}
