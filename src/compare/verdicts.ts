import { distanceBounds } from '../certify/distanceBounds.js';
import { cosineDistance, type Vector } from '../certify/sphere.js';

/**
 * What an attack did to a model's answer, against what a 1-Lipschitz embedding guarantees. A broken bound or
 * certificate on LipSim would be a bug; on the baseline (no Lipschitz bound) it is the point of the comparison.
 */

/** Measured distances come from float32 inference (~1e-6 noise): a bound counts as exceeded only beyond this. */
export const FLOAT_SLACK = 1e-5;

export interface SelfDistanceCheck {
  /** d(x, x + δ) = 1 − ⟨f(x), f(x + δ)⟩. */
  readonly distance: number;
  /** ‖δ‖₂, the size the bounds are taken at (whatever norm the attack was limited in). */
  readonly l2: number;
  /** Prop 4.1 with d(x, x) = 0: d(x, x + δ) ≤ ‖δ‖₂ (at most 2). */
  readonly prop41: number;
  /** Sphere bound: ‖f(x + δ) − f(x)‖ ≤ ‖δ‖₂ gives d(x, x + δ) ≤ ‖δ‖₂²/2 (at most 2); the tighter one. */
  readonly sphere: number;
  /** distance ≤ sphere (+ FLOAT_SLACK): what every 1-Lipschitz embedding guarantees. */
  readonly withinBound: boolean;
}

export function checkSelfDistance(clean: Vector, adversarial: Vector, l2: number): SelfDistanceCheck {
  const distance = cosineDistance(clean, adversarial);
  const bounds = distanceBounds(0, l2);
  return { distance, l2, prop41: bounds.prop41.upper, sphere: bounds.sphere.upper, withinBound: distance <= bounds.sphere.upper + FLOAT_SLACK };
}

export type CertificateVerdict = 'held' | 'broken' | 'not-covered';

export interface CertificateCheck {
  /** The certified ℓ₂ radius computed before the attack (Infinity: no rival can ever overtake). */
  readonly radius: number;
  /** ‖δ‖₂ < radius: the certificate promised the property for this attack. */
  readonly covered: boolean;
  readonly changed: boolean;
  /** held: covered and unchanged; broken: covered yet changed (a bug); not-covered: the attack was too large. */
  readonly verdict: CertificateVerdict;
}

export function checkCertificate(radius: number, l2: number, changed: boolean): CertificateCheck {
  const covered = l2 < radius;
  return { radius, covered, changed, verdict: !covered ? 'not-covered' : changed ? 'broken' : 'held' };
}

export interface IntervalCheck {
  readonly checked: number;
  /** Images whose attacked distance left its certified interval for ‖δ‖₂ (beyond FLOAT_SLACK). */
  readonly outside: readonly number[];
}

/** Did each neighbour's distance stay in [lower, upper] of distanceBounds(d(x, y), ‖δ‖₂)? */
export function checkNeighbourIntervals(
  clean: Vector,
  adversarial: Vector,
  neighbours: readonly { readonly id: number; readonly vector: Vector }[],
  l2: number,
): IntervalCheck {
  const outside = neighbours.filter(({ vector }) => {
    const { lower, upper } = distanceBounds(cosineDistance(clean, vector), l2);
    const attacked = cosineDistance(adversarial, vector);
    return attacked < lower - FLOAT_SLACK || attacked > upper + FLOAT_SLACK;
  });
  return { checked: neighbours.length, outside: outside.map((n) => n.id) };
}
