import { angleOfDistance, chordOfAngle } from './sphere.js';

/**
 * The 2AFC margin (d_j − d_i)/‖y_i − y_j‖ = cos β, β the angle between f(q) and y_i − y_j: the published
 * radius for "y_i stays ahead of y_j". Identical vectors (d_ij = 0) always tie and no δ changes that: +∞.
 */
export function twoAfcRadius(distanceI: number, distanceJ: number, distanceIJ: number): number {
  if (distanceIJ === 0) return Infinity;
  return Math.max(0, distanceJ - distanceI) / Math.sqrt(2 * distanceIJ);
}

/**
 * Certified radius of "y_i strictly ahead of y_j" (docs/certificates.md, §2): every ‖δ‖₂ < r keeps
 * d(q + δ, y_i) < d(q + δ, y_j). It is the exact radius on the sphere, chord(π/2 − β) with cos β = c the 2AFC
 * margin, written c·√(2 / (1 + √(1 − c²))) to stay accurate for small c. It is ≥ c, and ≈ c(1 + c²/8).
 */
export function pairRadius(distanceI: number, distanceJ: number, distanceIJ: number): number {
  const c = twoAfcRadius(distanceI, distanceJ, distanceIJ);
  if (c === Infinity || c === 0) return c;
  const cos = Math.min(1, c); // c ≤ 1 by Cauchy–Schwarz; rounding may overshoot
  return cos * Math.sqrt(2 / (1 + Math.sqrt(1 - cos * cos)));
}

/**
 * Certified radius of "y_i strictly ahead of every corpus item at distance ≥ D" when those items' vectors are
 * unknown (docs/certificates.md, §3): 2·sin((A_D − α_i)/4), A and α the angles of D and d_i; 0 when D ≤ d_i.
 * D > 2 says there are no such items (no unit vector is farther than 2): +∞.
 */
export function unscoredRadius(distanceI: number, otherDistanceLowerBound: number): number {
  if (otherDistanceLowerBound > 2) return Infinity;
  const gap = angleOfDistance(otherDistanceLowerBound) - angleOfDistance(distanceI);
  return gap > 0 ? chordOfAngle(gap / 2) : 0;
}
