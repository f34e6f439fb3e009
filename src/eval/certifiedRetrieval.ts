import { certifyAnswer, distanceBounds, type AnswerCertificate } from '../certify/index.js';
import { mean } from './retrieval.js';

export const CERTIFICATION_EPSILONS = [36 / 255, 72 / 255, 108 / 255, 0.5, 1.0];

export interface RadiusStats {
  readonly quantiles: Record<'p10' | 'p50' | 'p90' | 'max', number>;
  /** Share of queries whose radius is at least ε, per ε. */
  readonly certifiedShare: Record<string, number>;
}

export interface CertifiedRetrieval {
  readonly queries: number;
  readonly k: number;
  readonly top1: RadiusStats;
  readonly topkSet: RadiusStats;
  /** Over every (query, top-k neighbour, ε): how often the sphere interval is narrower than Prop 4.1's. */
  readonly sphereBeatsProp41: { readonly share: number; readonly meanWidthRatio: number };
  readonly top1Radii: number[];
}

/** The certificate of one query against a whole corpus, by exact scan (scope 'exact'). */
export function certifyByExactScan(
  query: Float32Array,
  corpus: readonly Float32Array[],
  k: number,
  challengers: number,
  exclude = -1,
): AnswerCertificate {
  const scored = corpus
    .map((v, id) => ({ id, vector: v, d: 1 - v.reduce((s, x, j) => s + x * query[j], 0) }))
    .filter((item) => item.id !== exclude)
    .sort((a, b) => a.d - b.d);
  const rest = scored[k + challengers];
  return certifyAnswer({
    query,
    topK: scored.slice(0, k),
    challengers: scored.slice(k, k + challengers),
    // The exact scan saw every item: the first unscored one bounds all others from below.
    otherDistanceLowerBound: rest ? Math.max(0, rest.d - 1e-6) : Infinity,
  });
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function radiusStats(radii: readonly number[]): RadiusStats {
  const sorted = [...radii].sort((a, b) => a - b);
  return {
    quantiles: { p10: quantile(sorted, 0.1), p50: quantile(sorted, 0.5), p90: quantile(sorted, 0.9), max: sorted[sorted.length - 1] },
    certifiedShare: Object.fromEntries(CERTIFICATION_EPSILONS.map((e) => [e.toFixed(4), mean(radii.map((r) => (r >= e ? 1 : 0)))])),
  };
}

/**
 * Certified radii of the answers to `queries` against `corpus` (exact scope). `excludeSelf`: query i is corpus
 * item i, left out of its own answer (novel-photo queries).
 */
export function evaluateCertifiedRetrieval(
  queries: readonly Float32Array[],
  corpus: readonly Float32Array[],
  k: number,
  excludeSelf: boolean,
): CertifiedRetrieval {
  const certs = queries.map((q, i) => certifyByExactScan(q, corpus, k, 20, excludeSelf ? i : -1));
  let sphereWins = 0, comparisons = 0;
  const ratios: number[] = [];
  for (const c of certs) {
    for (const d of c.distances) {
      for (const e of CERTIFICATION_EPSILONS) {
        const b = distanceBounds(Math.min(2, Math.max(0, d)), e);
        const sphereWidth = b.sphere.upper - b.sphere.lower;
        const propWidth = b.prop41.upper - b.prop41.lower;
        comparisons++;
        if (sphereWidth < propWidth) sphereWins++;
        if (propWidth > 0) ratios.push(sphereWidth / propWidth);
      }
    }
  }
  return {
    queries: queries.length,
    k,
    top1: radiusStats(certs.map((c) => c.top1Radius)),
    topkSet: radiusStats(certs.map((c) => c.topkSetRadius)),
    sphereBeatsProp41: { share: sphereWins / comparisons, meanWidthRatio: mean(ratios) },
    top1Radii: certs.map((c) => c.top1Radius),
  };
}
