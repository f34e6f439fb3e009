import { pairRadius, unscoredRadius } from './orderRadius.js';
import { assertUnitVector, checkedCosineDistance, cosineDistance, type Vector } from './sphere.js';

/** A corpus item as the query engine scored it: its id and its (unit) embedding. */
export interface ScoredItem {
  readonly id: number;
  readonly vector: Vector;
}

export interface AnswerCertificateInput {
  /** f(q), the query embedding. */
  readonly query: Vector;
  /** The answer, closest first (k ≥ 1 items). */
  readonly topK: readonly ScoredItem[];
  /** The next candidates beyond the answer (e.g. ranks k+1..k+m), any order. */
  readonly challengers: readonly ScoredItem[];
  /**
   * D: a lower bound on d(q, y) for every corpus item outside topK ∪ challengers, e.g. the (k+m+1)-th smallest
   * distance of an exact scan over all corpus vectors (computed in float64, see cosineDistance); > 2 (or
   * Infinity) when there are no other items. Giving it makes the certificate's scope 'exact'.
   */
  readonly otherDistanceLowerBound?: number;
}

/** The constraint that sets a radius: `ahead` must stay ahead of `behind` (null: an unscored corpus item). */
export interface LimitingPair {
  readonly ahead: number;
  readonly behind: number | null;
}

/**
 * Every radius r is a certified l2 radius in model-input space: for all ‖δ‖₂ < r the property holds for
 * q + δ. Infinity: nothing can change it (no rival). 'index' scope: relative to the scored items only.
 */
export interface AnswerCertificate {
  readonly scope: 'exact' | 'index';
  /** d(q, y) of the answer, recomputed in float64 from the vectors, closest first. */
  readonly distances: readonly number[];
  /** The closest item stays the closest. */
  readonly top1Radius: number;
  /** The answer's set of k items stays the same. */
  readonly topkSetRadius: number;
  /** The answer stays the same list in the same order. */
  readonly topkOrderRadius: number;
  readonly limitedBy: {
    readonly top1: LimitingPair | null;
    readonly topkSet: LimitingPair | null;
    readonly topkOrder: LimitingPair | null;
  };
}

interface Bound {
  radius: number;
  pair: LimitingPair | null;
}

/** A pair is skipped only when its lower bound clears the radius by more than float64 rounding could blur. */
const PRUNING_SLACK = 1 + 1e-9;

const unbounded = (): Bound => ({ radius: Infinity, pair: null });

function tighten(bound: Bound, radius: number, ahead: number, behind: number | null): void {
  if (radius < bound.radius) {
    bound.radius = radius;
    bound.pair = { ahead, behind };
  }
}

/**
 * Certified radii of a top-k answer (docs/certificates.md, §4). At most O((k + m)·k·dim) for k answers and
 * m challengers, usually far less: see the pruning below. The set needs every answer item ahead of every
 * outsider; the order needs only consecutive answer pairs on top of the set (order is transitive); the top-1
 * identity follows from the order, so it takes the larger.
 */
export function certifyAnswer(input: AnswerCertificateInput): AnswerCertificate {
  const { query, topK, challengers, otherDistanceLowerBound: lowerBound } = input;
  if (topK.length === 0) throw new RangeError('an answer needs at least one item');
  if (lowerBound !== undefined && !(lowerBound >= 0)) throw new RangeError(`lower bound ${lowerBound} must be ≥ 0`);
  assertUnitVector(query, 'query');

  const distance = (item: ScoredItem) => checkedCosineDistance(query, item.vector, `vector of item ${item.id}`);
  const answerDistances = topK.map(distance);
  const challengerDistances = challengers.map(distance);
  const radius = (i: number, other: ScoredItem, otherDistance: number) =>
    pairRadius(answerDistances[i], otherDistance, cosineDistance(topK[i].vector, other.vector));

  const top1 = unbounded();
  const set = unbounded();
  const order = unbounded();
  // Challengers nearest first. unscoredRadius(d_i, d_j) is the pair's radius for the worst placement of a
  // vector at distance d_j (§3), so a lower bound of the actual pair radius, and it grows with d_j: once it
  // exceeds every radius the pair could still lower, no farther challenger can lower one either. The answer
  // is walked farthest first, whose pairs are usually the limiting ones, so the bounds tighten early.
  const nearestFirst = challengers.map((_, j) => j).sort((a, b) => challengerDistances[a] - challengerDistances[b]);
  for (let i = topK.length - 1; i >= 0; i--) {
    const item = topK[i];
    if (lowerBound !== undefined) {
      const r = unscoredRadius(answerDistances[i], lowerBound);
      tighten(set, r, item.id, null);
      if (i === 0) tighten(top1, r, item.id, null);
    }
    for (const j of nearestFirst) {
      const reachable = i === 0 ? Math.max(set.radius, top1.radius) : set.radius;
      if (unscoredRadius(answerDistances[i], challengerDistances[j]) > reachable * PRUNING_SLACK) break;
      const r = radius(i, challengers[j], challengerDistances[j]);
      tighten(set, r, item.id, challengers[j].id);
      if (i === 0) tighten(top1, r, item.id, challengers[j].id);
    }
  }
  for (let i = 1; i < topK.length; i++) {
    tighten(top1, radius(0, topK[i], answerDistances[i]), topK[0].id, topK[i].id);
    tighten(order, radius(i - 1, topK[i], answerDistances[i]), topK[i - 1].id, topK[i].id);
  }
  if (set.radius < order.radius) Object.assign(order, set);
  const top1FromOrder = order.radius > top1.radius;

  return {
    scope: lowerBound === undefined ? 'index' : 'exact',
    distances: answerDistances,
    top1Radius: Math.max(top1.radius, order.radius),
    topkSetRadius: set.radius,
    topkOrderRadius: order.radius,
    limitedBy: { top1: top1FromOrder ? order.pair : top1.pair, topkSet: set.pair, topkOrder: order.pair },
  };
}
