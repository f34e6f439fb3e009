import { readFile } from 'node:fs/promises';
import { seededRandom } from '../util/random.js';
import { embedPhotosWithEach, inGallerySpace, type VectorModel } from './models.js';
import { averagePrecision, Gallery, mean, recallAt1 } from './retrieval.js';
import { applyTransform, type TransformFamily } from './transforms.js';

export interface CopyDetectionScores {
  readonly recallAt1: number;
  /** One relevant item per query, so AP = 1 / rank of the original. */
  readonly mAP: number;
}

export type CopyDetectionResult = Record<string, Record<TransformFamily | 'all', CopyDetectionScores>>;

/**
 * Copydays-style copy detection: each original photo gets one edited copy per transform family; each copy is
 * queried against all originals (the other originals are the distractors).
 */
export async function evaluateCopyDetection(
  models: readonly VectorModel[],
  originals: readonly string[],
  families: readonly TransformFamily[],
  seed: number,
): Promise<CopyDetectionResult> {
  const buffers = await Promise.all(originals.map((f) => readFile(f)));
  const result: CopyDetectionResult = {};
  const originalVectors = await embedPhotosWithEach(models, buffers);
  // Copies are compared with the originals: set-centred models centre both on the originals' mean.
  const toGallerySpace = models.map((m, i) => inGallerySpace(m, originalVectors[i]));
  const galleries = originalVectors.map((vectors, m) => new Gallery(vectors.map(toGallerySpace[m])));
  const truth = originals.map((_, i) => i);
  const perModel = models.map(() => ({}) as Record<TransformFamily | 'all', CopyDetectionScores>);
  for (const [f, family] of families.entries()) {
    const copies = await Promise.all(buffers.map((b, i) => applyTransform(family, b, seededRandom(seed + 7919 * f + i))));
    const copyVectors = await embedPhotosWithEach(models, copies);
    for (const m of models.keys()) {
      const queries = copyVectors[m].map(toGallerySpace[m]);
      const ap = queries.map((q, i) => averagePrecision(galleries[m].ranking(q), (g) => g === i));
      perModel[m][family] = { recallAt1: recallAt1(galleries[m], queries, truth), mAP: mean(ap) };
    }
  }
  models.forEach((model, m) => {
    const scores = families.map((f) => perModel[m][f]);
    perModel[m].all = { recallAt1: mean(scores.map((s) => s.recallAt1)), mAP: mean(scores.map((s) => s.mAP)) };
    result[model.label] = perModel[m];
  });
  return result;
}
