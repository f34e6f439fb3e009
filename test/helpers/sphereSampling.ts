/** Brute-force geometry for testing certificates: seeded random unit vectors and points of spherical caps. */

import { gaussian } from '../../src/util/random.js';

export type Rng = () => number;

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

export function normalise(v: number[]): number[] {
  const n = Math.sqrt(dot(v, v));
  return v.map((x) => x / n);
}

export function randomUnit(dim: number, rng: Rng): number[] {
  return normalise(Array.from({ length: dim }, () => gaussian(rng)));
}

/** Unit vector near `centre`: centre + spread·noise, normalised (clusters make ties and near-ties likely). */
export function nearUnit(centre: number[], spread: number, rng: Rng): number[] {
  return normalise(centre.map((c) => c + spread * gaussian(rng)));
}

export function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return 1 - dot(a, b);
}

export function chord(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

/** The unit tangent at u pointing towards `towards` (a random one when `towards` is parallel to u). */
export function tangent(u: number[], towards: number[], rng: Rng): number[] {
  for (let attempt = 0; ; attempt++) {
    const w = attempt === 0 ? towards : randomUnit(u.length, rng);
    const c = dot(w, u);
    const t = w.map((x, i) => x - c * u[i]);
    if (Math.sqrt(dot(t, t)) > 1e-9) return normalise(t);
  }
}

/** The point of the great circle through u along unit tangent t, at angle φ from u. */
export function rotate(u: number[], t: number[], angle: number): number[] {
  return u.map((x, i) => Math.cos(angle) * x + Math.sin(angle) * t[i]);
}

/** Angle of a chord c (the point at chord c from u along a great circle). */
export function angleOfChord(c: number): number {
  return 2 * Math.asin(Math.min(1, c / 2));
}

/** Points of the cap {u' : ‖u'‖ = 1, ‖u' − u‖ ≤ ε}: random directions and depths, a third on the boundary. */
export function capSamples(u: number[], epsilon: number, count: number, rng: Rng): number[][] {
  const maxAngle = angleOfChord(epsilon);
  return Array.from({ length: count }, (_, s) => {
    const t = tangent(u, randomUnit(u.length, rng), rng);
    return rotate(u, t, s % 3 === 0 ? maxAngle : maxAngle * rng());
  });
}
