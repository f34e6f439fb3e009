import { GREY_LEVELS, gridValue } from '../model/eightBit.js';
import type { AttackNorm } from './request.js';

/** Every grid value, so the hot loops below read instead of divide. */
const GRID = Float64Array.from({ length: GREY_LEVELS + 1 }, (_, level) => gridValue(level));

/** Scaling δ further cannot change q: δ is zero, or every value it moves is pinned at 0 or 255. */
const MAX_SCALE = 2 ** 40;

/**
 * Rounds a perturbed point onto the 8-bit grid without leaving the budget or the box, so that the attacked
 * image is exactly an 8-bit image file. `x` is on the grid (levels k); `point` = x + δ lies in the ε-ball and
 * in [0, 1] (a PGD iterate). Writes x + q to `out`, with q a whole number of grey levels per value and, measured
 * on the float32 values in float64 like l2Norm/linfNorm, ‖q‖ ≤ ε and x + q ∈ [0, 1]:
 * - l∞: q = round(δ), clipped to the whole levels within ε;
 * - l2: q = round(s·δ), clipped to the box, for the largest s ≥ 0 with ‖q‖₂ ≤ ε. Rounding alone would zero a
 *   dense δ of sub-level values; scaling first keeps its largest components and uses the whole budget. Each
 *   |q_i| grows with s, so the norm does too and bisection finds s; s = 0 (q = 0) is always feasible.
 */
export function projectToGrid(x: Float32Array, point: Float32Array, norm: AttackNorm, epsilon: number, out: Float32Array): void {
  const levels = new Int16Array(x.length);
  const delta = new Float64Array(x.length); // δ in grey levels
  for (let i = 0; i < x.length; i++) {
    levels[i] = Math.round(x[i] * GREY_LEVELS);
    delta[i] = (point[i] - x[i]) * GREY_LEVELS;
  }
  if (norm === 'linf') {
    writeLinf(x, levels, delta, epsilon, out);
    return;
  }
  // The budget in squared levels is exact up to float32's k/255; shrink it in the rare case that tips it over.
  for (let budget = (epsilon * GREY_LEVELS) ** 2; ; budget *= 1 - 1e-6) {
    if (writeL2(x, levels, delta, largestScale(levels, delta, budget), out) <= epsilon) return;
  }
}

/** Σ q_i² in squared grey levels for q = clip(round(s·δ)). */
function squaredSteps(levels: Int16Array, delta: Float64Array, s: number): number {
  let sum = 0;
  for (let i = 0; i < delta.length; i++) {
    let step = Math.round(s * delta[i]);
    if (step < -levels[i]) step = -levels[i];
    else if (step > GREY_LEVELS - levels[i]) step = GREY_LEVELS - levels[i];
    sum += step * step;
  }
  return sum;
}

/**
 * The largest s with squaredSteps(s) ≤ budget, to 2^-12 of itself. Rounding only grows or shrinks each |q_i| by
 * half a level, so s·‖δ‖ ≈ √budget: the search starts there and brackets by doubling or halving.
 */
function largestScale(levels: Int16Array, delta: Float64Array, budget: number): number {
  let length = 0;
  for (let i = 0; i < delta.length; i++) length += delta[i] * delta[i];
  if (length === 0) return 0;
  let feasible = 0;
  let infeasible = Math.sqrt(budget / length);
  if (squaredSteps(levels, delta, infeasible) <= budget) {
    do {
      feasible = infeasible;
      if (infeasible > MAX_SCALE) return feasible;
      infeasible *= 2;
    } while (squaredSteps(levels, delta, infeasible) <= budget);
  } else {
    for (let s = infeasible / 2; s > 1e-9; s /= 2) {
      if (squaredSteps(levels, delta, s) <= budget) {
        feasible = s;
        break;
      }
      infeasible = s;
    }
  }
  for (let i = 0; i < 12; i++) {
    const s = (feasible + infeasible) / 2;
    if (squaredSteps(levels, delta, s) <= budget) feasible = s;
    else infeasible = s;
  }
  return feasible;
}

/** out = x + clip(round(s·δ)) on the grid; returns ‖out − x‖₂ in float64. */
function writeL2(x: Float32Array, levels: Int16Array, delta: Float64Array, s: number, out: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    const level = Math.min(GREY_LEVELS, Math.max(0, levels[i] + Math.round(s * delta[i])));
    out[i] = GRID[level];
    sum += (out[i] - x[i]) ** 2;
  }
  return Math.sqrt(sum);
}

function writeLinf(x: Float32Array, levels: Int16Array, delta: Float64Array, epsilon: number, out: Float32Array): void {
  const most = Math.floor(epsilon * GREY_LEVELS + 1e-9);
  for (let i = 0; i < x.length; i++) {
    let level = Math.min(GREY_LEVELS, Math.max(0, levels[i] + Math.min(most, Math.max(-most, Math.round(delta[i])))));
    // k/255 in float32 may land a hair beyond ε: one level less then.
    while (level !== levels[i] && Math.abs(GRID[level] - x[i]) > epsilon) level -= Math.sign(level - levels[i]);
    out[i] = GRID[level];
  }
}
