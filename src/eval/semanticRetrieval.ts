import { averagePrecision, Gallery, mean, precisionAtK } from './retrieval.js';

export interface SemanticScores {
  readonly queries: number;
  readonly precisionAt: Record<string, number>;
  readonly mAP: number;
}

/**
 * COCO semantic retrieval: every annotated image queries all the others; a result is relevant when it shares
 * at least one object category with the query.
 */
export function evaluateSemanticRetrieval(
  vectors: readonly Float32Array[],
  categories: readonly ReadonlySet<number>[],
  ks: readonly number[] = [1, 5, 10],
): SemanticScores {
  const gallery = new Gallery(vectors);
  const p: Record<string, number[]> = Object.fromEntries(ks.map((k) => [String(k), []]));
  const ap: number[] = [];
  vectors.forEach((q, i) => {
    const ranking = gallery.ranking(q, i);
    const relevant = (g: number) => [...categories[g]].some((c) => categories[i].has(c));
    for (const k of ks) p[String(k)].push(precisionAtK(ranking, relevant, k));
    ap.push(averagePrecision(ranking, relevant));
  });
  return {
    queries: vectors.length,
    precisionAt: Object.fromEntries(Object.entries(p).map(([k, v]) => [k, mean(v)])),
    mAP: mean(ap),
  };
}
