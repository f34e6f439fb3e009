import { toEightBit } from '../model/eightBit.js';
import { modelInputToPng } from '../model/modelInputPng.js';
import { INPUT_SIZE } from '../model/preprocess.js';

/**
 * The certified top-1 budget drawn on the query (issue #16): the 224×224 model input plus a perturbation of ℓ₂
 * size r, spent either evenly over every value or on as few pixels as possible (docs/certificates.md §6).
 */

export const BUDGET_KINDS = ['spread', 'patch'] as const;
export type BudgetKind = (typeof BUDGET_KINDS)[number];

const PLANE = INPUT_SIZE * INPUT_SIZE;
const VALUES = 3 * PLANE;
/** The spread change is drawn this many grey levels high: r/√150528 alone is usually below one level. */
const SPREAD_SHOWN_LEVELS = 12;

/** How much the spread form is amplified so that it shows (1: drawn at true size). */
export function spreadGain(radius: number): number {
  const levels = (255 * radius) / Math.sqrt(VALUES);
  return Math.max(1, Math.round(SPREAD_SHOWN_LEVELS / levels));
}

/** Every value moved by gain·r/√N, its sign alternating in a checkerboard (reflected where it would leave [0, 1]). */
function spread(query: Float32Array, radius: number, gain: number): Float32Array {
  const step = (gain * radius) / Math.sqrt(VALUES);
  return Float32Array.from(query, (q, i) => {
    const pixel = i % PLANE;
    const sign = (Math.floor(pixel / INPUT_SIZE) + (pixel % INPUT_SIZE)) % 2 === 0 ? 1 : -1;
    const moved = q + sign * step;
    return Math.min(1, Math.max(0, moved >= 0 && moved <= 1 ? moved : q - sign * step));
  });
}

/**
 * The whole budget on a square patch at the centre, row by row: each value goes to its far extreme (black or
 * white, a move of at least 0.5), until the last one takes what is left of r², so ‖δ‖₂ = r up to 8-bit rounding.
 */
function patch(query: Float32Array, radius: number): Float32Array {
  const out = Float32Array.from(query);
  // Each whole pixel takes at least 3·0.5² of r², so this side always holds the budget (or the whole picture).
  const side = Math.min(INPUT_SIZE, Math.ceil(Math.sqrt(Math.ceil((radius * radius) / 0.75))));
  const start = Math.floor((INPUT_SIZE - side) / 2);
  let left = radius * radius;
  for (let y = start; y < start + side && left > 0; y++) {
    for (let x = start; x < start + side && left > 0; x++) {
      for (let c = 0; c < 3 && left > 0; c++) {
        const i = c * PLANE + y * INPUT_SIZE + x;
        const q = query[i];
        const direction = q < 0.5 ? 1 : -1;
        const full = direction > 0 ? 1 - q : q;
        const move = Math.min(full, Math.sqrt(left));
        out[i] = q + direction * move;
        left -= move * move;
      }
    }
  }
  return out;
}

/** The query (already on the 8-bit grid) plus the budget drawn as `kind`, as a lossless PNG. */
export async function budgetPng(query: Float32Array, radius: number, kind: BudgetKind): Promise<Buffer> {
  if (!(radius > 0 && Number.isFinite(radius))) throw new RangeError(`a budget picture needs a finite radius > 0, not ${radius}`);
  const perturbed = kind === 'spread' ? spread(query, radius, spreadGain(radius)) : patch(query, radius);
  return modelInputToPng(toEightBit(perturbed));
}
