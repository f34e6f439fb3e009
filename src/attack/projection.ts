/**
 * Projections of a proposed perturbation z (float64) onto {δ : ‖δ‖ ≤ ε, x + δ ∈ [0, 1]}, written as the
 * float32 image x + δ. Both constraints hold exactly for the float32 result (measured in float64), not just
 * before rounding: the attack's budget is a claim the tests and the UI rely on.
 */

const bits = new Uint32Array(1);
const asFloat = new Float32Array(bits.buffer);

/** The float32 next to v (≥ 0) in the direction of `towards`. */
function stepTowards(v: number, towards: number): number {
  asFloat[0] = v;
  bits[0] += towards > v ? 1 : -1;
  return asFloat[0];
}

/**
 * l∞: δ_i = clip(z_i, max(−ε, −x_i), min(ε, 1 − x_i)), rounded to float32 and stepped one ulp back towards
 * x_i where rounding crossed the budget.
 */
export function projectLinf(x: Float32Array, z: Float64Array, epsilon: number, out: Float32Array): void {
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    let v = Math.fround(Math.min(1, xi + epsilon, Math.max(0, xi - epsilon, xi + z[i])));
    if (Math.abs(v - xi) > epsilon) v = stepTowards(v, xi);
    out[i] = v;
  }
}

/**
 * l2: the exact Euclidean projection onto ball ∩ box is δ = clip(s·z, −x, 1 − x) for the largest s ∈ [0, 1]
 * with ‖δ‖ ≤ ε (KKT: the ball's multiplier scales z, the box clips per coordinate). ‖δ(s)‖² = s²·A + C, A the
 * squares of the unclipped z_i and C of the clipped rooms; solving s²·A + C = ε² with the clipped set of the
 * current s only grows s and stays feasible, so it reaches the exact s in a few passes. Float32 rounding of
 * x + δ can add ~1e-5 to the norm: s then shrinks until the rounded image is within ε.
 */
export function projectL2(x: Float32Array, z: Float64Array, epsilon: number, out: Float32Array): void {
  let s = 1;
  let sumSquares = 0;
  for (let i = 0; i < x.length; i++) sumSquares += Math.min(Math.abs(z[i]), z[i] > 0 ? 1 - x[i] : x[i]) ** 2;
  if (sumSquares > epsilon * epsilon) {
    s = epsilon / Math.sqrt(z.reduce((sum, v) => sum + v * v, 0)); // no clipping: feasible, a lower bound
    for (;;) {
      let unclipped = 0;
      let clipped = 0;
      for (let i = 0; i < x.length; i++) {
        const size = Math.abs(z[i]);
        const room = z[i] > 0 ? 1 - x[i] : x[i];
        if (s * size >= room) clipped += room * room;
        else unclipped += size * size;
      }
      const next = Math.min(1, Math.sqrt(Math.max(0, epsilon * epsilon - clipped) / unclipped));
      if (!(next > s * (1 + 1e-12))) break;
      s = next;
    }
  }
  for (let norm = writeClipped(x, z, s, out); norm > epsilon; norm = writeClipped(x, z, s, out)) {
    s *= Math.min(1 - 1e-7, epsilon / norm);
  }
}

/** out = float32(clip(x + s·z, 0, 1)); returns ‖out − x‖₂ in float64. */
function writeClipped(x: Float32Array, z: Float64Array, s: number, out: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    const v = Math.fround(Math.min(1, Math.max(0, x[i] + s * z[i])));
    out[i] = v;
    sum += (v - x[i]) ** 2;
  }
  return Math.sqrt(sum);
}

export function l2Norm(x: Float32Array, y: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += (y[i] - x[i]) ** 2;
  return Math.sqrt(sum);
}

export function linfNorm(x: Float32Array, y: Float32Array): number {
  let max = 0;
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(y[i] - x[i]));
  return max;
}
