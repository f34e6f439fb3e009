/**
 * Geometry of the unit sphere that every certificate rests on. Embeddings are unit vectors and the cosine
 * distance d = 1 − ⟨a, b⟩ equals ‖a − b‖²/2 = 1 − cos θ = 2 sin²(θ/2), θ the angle between a and b. A
 * perturbation ‖δ‖₂ ≤ ε of a 1-Lipschitz f moves f(q) within chord ε of itself, i.e. within the angle capAngle(ε).
 */

export type Vector = ArrayLike<number>;

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** Angle between unit vectors at cosine distance d (2·asin form: accurate for near-duplicates, d ≈ 0). */
export function angleOfDistance(distance: number): number {
  return 2 * Math.asin(Math.sqrt(clamp(distance, 0, 2) / 2));
}

/** Cosine distance of unit vectors at angle θ. */
export function distanceOfAngle(angle: number): number {
  const s = Math.sin(clamp(angle, 0, Math.PI) / 2);
  return 2 * s * s;
}

/** Chord length ‖a − b‖ of unit vectors at angle θ. */
export function chordOfAngle(angle: number): number {
  return 2 * Math.sin(clamp(angle, 0, Math.PI) / 2);
}

/** Angular radius of the set of unit vectors within chord ε of a given one (the whole sphere once ε ≥ 2). */
export function capAngle(epsilon: number): number {
  return 2 * Math.asin(clamp(epsilon / 2, 0, 1));
}

export function dot(a: Vector, b: Vector): number {
  if (a.length !== b.length) throw new RangeError(`vectors of length ${a.length} and ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Cosine distance of two unit vectors, in float64 (use it for exact scans that feed a certificate). */
export function cosineDistance(a: Vector, b: Vector): number {
  return clamp(1 - dot(a, b), 0, 2);
}

/** Rejects vectors the sphere geometry does not apply to (float32 unit vectors are within ~1e-6 of norm 1). */
export function assertUnitVector(v: Vector, what: string, dim?: number): void {
  if (dim !== undefined && v.length !== dim) throw new RangeError(`${what} has ${v.length} values, expected ${dim}`);
  assertUnitNorm(Math.sqrt(dot(v, v)), what);
}

function assertUnitNorm(norm: number, what: string): void {
  if (!(Math.abs(norm - 1) <= 1e-4)) throw new RangeError(`${what} is not a unit vector (norm ${norm})`);
}

/**
 * cosineDistance(query, v) for a vector that must be a unit vector of the query's dimension, checked in the
 * same pass over v (certificates check every vector they use; one pass instead of two).
 */
export function checkedCosineDistance(query: Vector, v: Vector, what: string): number {
  if (v.length !== query.length) throw new RangeError(`${what} has ${v.length} values, expected ${query.length}`);
  let s = 0;
  let n = 0;
  for (let i = 0; i < v.length; i++) {
    s += query[i] * v[i];
    n += v[i] * v[i];
  }
  assertUnitNorm(Math.sqrt(n), what);
  return clamp(1 - s, 0, 2);
}
