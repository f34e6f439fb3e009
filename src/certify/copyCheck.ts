import type { ScoredItem } from './answerCertificate.js';
import { assertUnitVector, cosineDistance, type Vector } from './sphere.js';

export interface CopyCheckInput {
  /** f(q), the query embedding. */
  readonly query: Vector;
  /** The scored corpus items (e.g. the nearest ones of an exact scan). */
  readonly candidates: readonly ScoredItem[];
  /** ε: the l2 size, in model-input space, of the edit that would make q a copy of a corpus image. */
  readonly epsilon: number;
  /** D: lower bound on d(q, y) for every other corpus item (> 2: none). Needed to prove anything. */
  readonly otherDistanceLowerBound?: number;
}

export interface CopyCheck {
  readonly scope: 'exact' | 'index';
  readonly epsilon: number;
  /** ε²/2: an ε-copy x of q has d(q, x) ≤ ε²/2 (docs/certificates.md, §5). */
  readonly distanceThreshold: number;
  /** Scored items with d ≤ ε²/2, closest first: images q may be an ε-edit of. */
  readonly possibleCopies: readonly { readonly id: number; readonly distance: number }[];
  /** True only in exact scope: no corpus image x has ‖q − x‖₂ ≤ ε. */
  readonly provenNoCopy: boolean;
  /**
   * √(2·d_min) in exact scope: "no corpus image is an ε-copy" is proven for every ε below it (at it, the
   * nearest image may be one). null in index scope.
   */
  readonly epsilonProvenNoCopy: number | null;
}

/** Which corpus images q could be an ε-perturbation of (‖q − x‖₂ ≤ ε in model-input space), and proof of none. */
export function checkCopies(input: CopyCheckInput): CopyCheck {
  const { query, candidates, epsilon, otherDistanceLowerBound: lowerBound } = input;
  if (!(epsilon >= 0)) throw new RangeError(`epsilon ${epsilon} must be ≥ 0`);
  if (lowerBound !== undefined && !(lowerBound >= 0)) throw new RangeError(`lower bound ${lowerBound} must be ≥ 0`);
  assertUnitVector(query, 'query');
  candidates.forEach((item) => assertUnitVector(item.vector, `vector of item ${item.id}`, query.length));

  const threshold = (epsilon * epsilon) / 2;
  const scored = candidates.map((item) => ({ id: item.id, distance: cosineDistance(query, item.vector) }));
  const possibleCopies = scored.filter((s) => s.distance <= threshold).sort((a, b) => a.distance - b.distance);
  if (lowerBound === undefined) {
    return { scope: 'index', epsilon, distanceThreshold: threshold, possibleCopies, provenNoCopy: false, epsilonProvenNoCopy: null };
  }
  const minDistance = scored.reduce((min, s) => Math.min(min, s.distance), lowerBound);
  return {
    scope: 'exact',
    epsilon,
    distanceThreshold: threshold,
    possibleCopies,
    provenNoCopy: possibleCopies.length === 0 && lowerBound > threshold,
    epsilonProvenNoCopy: minDistance > 2 ? Infinity : Math.sqrt(2 * minDistance),
  };
}
