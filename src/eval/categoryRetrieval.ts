import type { LabelledPhoto } from './datasets.js';
import { embedPhotosWithEach, inGallerySpace, type VectorModel } from './models.js';
import { averagePrecision, Gallery, mean, precisionAtK } from './retrieval.js';

const K = 10;

export interface CategoryScores {
  readonly precisionAt10: number;
  readonly mAP: number;
}

export interface CategoryRetrieval {
  readonly photos: number;
  readonly classes: number;
  /** Photos with at least one other photo of their class: the queries (the others have nothing to find). */
  readonly queries: number;
  /** P@10 of a perfect ranking: small classes cap it below 1. */
  readonly bestPrecisionAt10: number;
  readonly results: Record<string, CategoryScores>;
}

/** Held-out photos of one labelled source (labels = class folders), at most `limit` of them, drawn by `rand`. */
export function heldOutPhotosOf(
  photos: readonly LabelledPhoto[],
  source: LabelledPhoto['source'],
  limit: number,
  rand: () => number,
): LabelledPhoto[] {
  const held = photos.filter((p) => p.source === source && p.split === 'val');
  if (held.length <= limit) return held;
  return held.map((p) => ({ p, r: rand() })).sort((a, b) => a.r - b.r).slice(0, limit).map(({ p }) => p);
}

/** Each photo queries all the others; relevant = the same class. */
export async function evaluateCategoryRetrieval(models: readonly VectorModel[], photos: readonly LabelledPhoto[]): Promise<CategoryRetrieval> {
  const labels = photos.map((p) => p.label);
  const perModel = await embedPhotosWithEach(models, photos.map((p) => p.file));
  const scored = models.map((m, i) => scoreCategoryRetrieval(perModel[i].map(inGallerySpace(m, perModel[i])), labels));
  const { queries, classes, bestPrecisionAt10 } = scored[0]; // the same for every model: they depend on labels only
  return {
    photos: photos.length,
    classes,
    queries,
    bestPrecisionAt10,
    results: Object.fromEntries(models.map((m, i) => [m.label, { precisionAt10: scored[i].precisionAt10, mAP: scored[i].mAP }])),
  };
}

/**
 * P@10 and mAP of unit vectors labelled by class, each querying all the others; photos alone in their class are
 * not queries (they have nothing to find).
 */
export function scoreCategoryRetrieval(
  vectors: readonly Float32Array[],
  labels: readonly string[],
): CategoryScores & { readonly queries: number; readonly classes: number; readonly bestPrecisionAt10: number } {
  const classSize = new Map<string, number>();
  for (const l of labels) classSize.set(l, (classSize.get(l) ?? 0) + 1);
  const queries = labels.map((l, i) => ({ l, i })).filter(({ l }) => classSize.get(l)! > 1).map(({ i }) => i);
  const gallery = new Gallery(vectors);
  const rankings = queries.map((q) => ({ q, ranking: gallery.ranking(gallery.vectors[q], q) }));
  const relevantTo = (q: number) => (g: number) => labels[g] === labels[q];
  return {
    queries: queries.length,
    classes: classSize.size,
    bestPrecisionAt10: mean(queries.map((q) => Math.min(K, classSize.get(labels[q])! - 1) / K)),
    precisionAt10: mean(rankings.map(({ q, ranking }) => precisionAtK(ranking, relevantTo(q), K))),
    mAP: mean(rankings.map(({ q, ranking }) => averagePrecision(ranking, relevantTo(q)))),
  };
}
