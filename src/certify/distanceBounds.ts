import { angleOfDistance, capAngle, distanceOfAngle } from './sphere.js';

export interface Interval {
  readonly lower: number;
  readonly upper: number;
}

export type BoundName = 'prop41' | 'sphere' | 'equal';

/** Where d(q + δ, y) can lie for every ‖δ‖₂ ≤ ε, given d = d(q, y) (docs/certificates.md, §1). */
export interface DistanceBounds extends Interval {
  /** Prop 4.1: d ± ε, clipped to [0, 2]. */
  readonly prop41: Interval;
  /** Triangle inequality on chords: [(max(0, √(2d) − ε))²/2, (√(2d) + ε)²/2], clipped to [0, 2]. */
  readonly sphere: Interval;
  /** Which of the two published bounds is narrower on each side (lower/upper themselves are tighter still). */
  readonly tighter: { readonly lower: BoundName; readonly upper: BoundName };
}

function narrower(prop41: number, sphere: number, sphereBetter: (a: number, b: number) => boolean): BoundName {
  if (prop41 === sphere) return 'equal';
  return sphereBetter(sphere, prop41) ? 'sphere' : 'prop41';
}

/**
 * Certified interval of a neighbour's distance under any ‖δ‖₂ ≤ ε. `lower`/`upper` are the exact range of
 * d(u', y) over the spherical cap {u' : ‖u'‖ = 1, ‖u' − f(q)‖ ≤ ε}: endpoints attained, and contained in both
 * the Prop 4.1 and the chord-triangle ("sphere") intervals, which are returned for comparison.
 */
export function distanceBounds(distance: number, epsilon: number): DistanceBounds {
  if (!(distance >= 0 && distance <= 2)) throw new RangeError(`distance ${distance} outside [0, 2]`);
  if (!(epsilon >= 0)) throw new RangeError(`epsilon ${epsilon} must be ≥ 0`);
  const alpha = angleOfDistance(distance);
  const theta = capAngle(epsilon);
  const chord = Math.sqrt(2 * distance);
  const prop41 = { lower: Math.max(0, distance - epsilon), upper: Math.min(2, distance + epsilon) };
  const sphere = {
    lower: Math.max(0, chord - epsilon) ** 2 / 2,
    upper: Math.min(2, (chord + epsilon) ** 2 / 2),
  };
  return {
    lower: distanceOfAngle(Math.max(0, alpha - theta)),
    upper: distanceOfAngle(Math.min(Math.PI, alpha + theta)),
    prop41,
    sphere,
    tighter: {
      lower: narrower(prop41.lower, sphere.lower, (s, p) => s > p),
      upper: narrower(prop41.upper, sphere.upper, (s, p) => s < p),
    },
  };
}
