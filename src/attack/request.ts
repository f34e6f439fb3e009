import type { ModelName } from '../model/card.js';
import { GREY_LEVELS, isEightBit } from '../model/eightBit.js';
import { PIXELS_PER_INPUT } from '../model/embedder.js';
import { AttackRequestError } from './errors.js';

export type AttackNorm = 'l2' | 'linf';

/**
 * untargeted: push f(x + δ) as far from f(x) as possible (maximise ‖f(x + δ) − f(x)‖²).
 * targeted: pull f(x + δ) towards the unit vector `target` (maximise ⟨f(x + δ), target⟩) to hijack the top-1;
 * with `rivals` (e.g. the clean answer's other embeddings) it stops as soon as target is the closest of them.
 */
export type AttackGoal =
  | { readonly kind: 'untargeted' }
  | { readonly kind: 'targeted'; readonly target: Float32Array; readonly rivals?: readonly Float32Array[] };

export interface AttackRequest {
  readonly model: ModelName;
  /** The query as a model input: planar 3×224×224 in [0, 1]. */
  readonly pixels: Float32Array;
  readonly norm: AttackNorm;
  /** Budget ε of ‖δ‖ in model-input space (l2, or l∞ per value). */
  readonly epsilon: number;
  readonly goal: AttackGoal;
  /** Gradient steps (default 20, at most MAX_ATTACK_STEPS). */
  readonly steps?: number;
  /** Default 2.5·ε/steps (l2: along the normalised gradient; l∞: along its sign). */
  readonly stepSize?: number;
  /** Start from a random point of the ε-ball (default: untargeted yes, targeted no). */
  readonly randomStart?: boolean;
  /** Seed of the random start (default 0): the same request gives the same attack. */
  readonly seed?: number;
  /** Untargeted: stop after this many steps without a better loss; 0 never stops early (default 5). */
  readonly patience?: number;
  /**
   * Keep the attacked image on the 8-bit grid k/255 (default false), so that it is exactly an 8-bit image file;
   * `pixels` must then be on the grid too, and ε at least one grey level.
   */
  readonly eightBit?: boolean;
}

export type ResolvedAttackRequest = Required<AttackRequest>;

export const MAX_ATTACK_STEPS = 1000;
export const MODEL_NAMES: readonly ModelName[] = ['lipsim', 'baseline'];

function fail(message: string): never {
  throw new AttackRequestError(message);
}

function checkUnit(v: unknown, what: string, dim: number): void {
  if (!(v instanceof Float32Array) || v.length !== dim) fail(`${what} must be a Float32Array of ${dim} values`);
  let s = 0;
  for (const x of v) s += x * x;
  if (!(Math.abs(Math.sqrt(s) - 1) <= 1e-3)) fail(`${what} must be a unit vector (an embedding)`);
}

/** Validates a request (targets against the model's embedding size) and fills in the defaults. */
export function resolveAttackRequest(request: AttackRequest, embeddingDimOf: (model: ModelName) => number): ResolvedAttackRequest {
  const { model, pixels, norm, epsilon, goal } = request;
  if (!MODEL_NAMES.includes(model)) fail(`model must be one of ${MODEL_NAMES.join(', ')}`);
  const embeddingDim = embeddingDimOf(model);
  if (!(pixels instanceof Float32Array) || pixels.length !== PIXELS_PER_INPUT) {
    fail(`pixels must be a Float32Array of ${PIXELS_PER_INPUT} values (3×224×224)`);
  }
  for (const v of pixels) if (!(v >= 0 && v <= 1)) fail('pixels must lie in [0, 1]');
  if (norm !== 'l2' && norm !== 'linf') fail("norm must be 'l2' or 'linf'");
  const largest = norm === 'l2' ? Math.sqrt(PIXELS_PER_INPUT) : 1; // beyond it the ball holds the whole box
  if (!(epsilon > 0 && epsilon <= largest)) fail(`epsilon must be in (0, ${largest}] for ${norm}`);
  if (goal?.kind === 'targeted') {
    checkUnit(goal.target, 'target', embeddingDim);
    goal.rivals?.forEach((r, i) => checkUnit(r, `rival ${i}`, embeddingDim));
  } else if (goal?.kind !== 'untargeted') fail("goal.kind must be 'untargeted' or 'targeted'");
  const steps = request.steps ?? 20;
  if (!(Number.isInteger(steps) && steps >= 1 && steps <= MAX_ATTACK_STEPS)) fail(`steps must be an integer in 1..${MAX_ATTACK_STEPS}`);
  const stepSize = request.stepSize ?? (2.5 * epsilon) / steps;
  if (!(stepSize > 0 && Number.isFinite(stepSize))) fail('stepSize must be a positive number');
  const seed = request.seed ?? 0;
  if (!Number.isInteger(seed)) fail('seed must be an integer');
  const patience = request.patience ?? 5;
  if (!(Number.isInteger(patience) && patience >= 0)) fail('patience must be a non-negative integer');
  const randomStart = request.randomStart ?? goal.kind === 'untargeted';
  if (typeof randomStart !== 'boolean') fail('randomStart must be a boolean');
  const eightBit = request.eightBit ?? false;
  if (typeof eightBit !== 'boolean') fail('eightBit must be a boolean');
  if (eightBit && !isEightBit(pixels)) fail('eightBit: pixels must be on the 8-bit grid (k/255)');
  if (eightBit && epsilon < 1 / GREY_LEVELS) fail('eightBit: epsilon must be at least one grey level (1/255), or no 8-bit change fits');
  return { model, pixels, norm, epsilon, goal, steps, stepSize, randomStart, seed, patience, eightBit };
}
