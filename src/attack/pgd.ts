import type { GradientModel } from '../model/gradient.js';
import { projectToGrid } from './gridProjection.js';
import { l2Norm, linfNorm, projectL2, projectLinf } from './projection.js';
import { AttackRequestError } from './errors.js';
import { gaussian, seededRandom } from '../util/random.js';
import { resolveAttackRequest, type AttackNorm, type AttackRequest, type ResolvedAttackRequest } from './request.js';

export interface AttackProgress {
  /** Evaluations so far: step 0 is the starting point, step `steps` the last. */
  readonly step: number;
  readonly steps: number;
  readonly loss: number;
  readonly bestLoss: number;
}

export type AttackStopReason = 'completed' | 'goal-reached' | 'no-improvement';

export interface AttackResult {
  /** The adversarial model input x + δ: planar 3×224×224 float32, exactly in [0, 1]. */
  readonly adversarial: Float32Array;
  readonly norm: AttackNorm;
  readonly epsilon: number;
  /** ‖δ‖₂ and ‖δ‖∞ of the returned image (float64, from the float32 pixels): the budget's norm is ≤ ε. */
  readonly norms: { readonly l2: number; readonly linf: number };
  /** Loss at every evaluation: ‖f(x + δ) − f(x)‖² (untargeted) or ⟨f(x + δ), target⟩ (targeted). */
  readonly lossHistory: readonly number[];
  readonly cleanEmbedding: Float32Array;
  readonly adversarialEmbedding: Float32Array;
  /** ‖f(x + δ) − f(x)‖ and d(x, x + δ) = 1 − ⟨f(x), f(x + δ)⟩ for the returned image. */
  readonly embeddingShift: number;
  readonly distance: number;
  /** Targeted with rivals: whether the target became the closest; otherwise null. */
  readonly goalReached: boolean | null;
  readonly stepsRun: number;
  readonly stopReason: AttackStopReason;
}

export interface AttackRunOptions {
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: AttackProgress) => void;
}

const dotProduct = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i], 0);
const squaredDistance = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0);

function randomStart(request: ResolvedAttackRequest, random: () => number): Float64Array {
  const { norm, epsilon, pixels } = request;
  if (norm === 'linf') return Float64Array.from(pixels, () => (2 * random() - 1) * epsilon);
  const z = Float64Array.from(pixels, () => gaussian(random));
  const scale = (epsilon * random()) / Math.sqrt(z.reduce((s, v) => s + v * v, 0));
  return z.map((v) => v * scale);
}

/** A seeded unit vector: the first untargeted step's direction when there is no random start (see below). */
function randomDirection(dim: number, random: () => number): Float32Array {
  const v = Float32Array.from({ length: dim }, () => gaussian(random));
  const n = Math.sqrt(dotProduct(v, v));
  return v.map((x) => x / n);
}

/**
 * Projected gradient ascent on the query in model-input space (Madry et al.), one gradient-graph run per step.
 * Untargeted uses direction −f(x): on the sphere ‖f(x + δ) − f(x)‖² = 2 − 2⟨f(x + δ), f(x)⟩, whose gradient
 * 2(f(x + δ) − f(x)) differs from −2f(x) only radially, which the sphere projection's Jacobian removes. That
 * gradient vanishes at δ = 0, so without a random start the first step follows a seeded random direction.
 * With eightBit, f is evaluated at the iterate rounded onto the 8-bit grid (projectToGrid) while the steps
 * accumulate in float: steps smaller than a grey level still add up.
 * Returns the best evaluated point (by loss), or the first one that reached a targeted goal.
 */
export async function runPgd(model: GradientModel, request: AttackRequest, options: AttackRunOptions = {}): Promise<AttackResult> {
  const r = resolveAttackRequest(request, (name) => {
    if (name !== model.card.name) throw new AttackRequestError(`request for ${name} given the ${model.card.name} model`);
    return model.card.embeddingDim;
  });
  const { pixels: x, goal, steps, stepSize, epsilon } = r;
  const { signal, onProgress } = options;
  const dim = model.card.embeddingDim;
  const random = seededRandom(r.seed);
  const project = r.norm === 'l2' ? projectL2 : projectLinf;

  const [clean] = await model.run([x], [new Float32Array(dim)]);
  const cleanEmbedding = clean.embedding;
  const direction = goal.kind === 'targeted' ? goal.target : cleanEmbedding.map((v) => -v);
  const loss = (e: Float32Array) => (goal.kind === 'targeted' ? dotProduct(e, goal.target) : squaredDistance(e, cleanEmbedding));
  const reached = (e: Float32Array) =>
    goal.kind === 'targeted' && goal.rivals?.length ? goal.rivals.every((rival) => dotProduct(e, goal.target) > dotProduct(e, rival)) : null;

  const adv = Float32Array.from(x);
  if (r.randomStart) project(x, randomStart(r, random), epsilon, adv);
  const point = r.eightBit ? new Float32Array(x.length) : adv; // where f is evaluated
  const proposal = new Float64Array(x.length);
  const lossHistory: number[] = [];
  let best = { loss: -Infinity, adversarial: adv, embedding: cleanEmbedding };
  let sinceBest = 0;
  let stopReason: AttackStopReason = 'completed';

  for (let step = 0; ; step++) {
    signal?.throwIfAborted();
    if (r.eightBit) projectToGrid(x, adv, r.norm, epsilon, point);
    const firstBlindStep = step === 0 && goal.kind === 'untargeted' && !r.randomStart;
    const [{ embedding, gradient }] = await model.run([point], [firstBlindStep ? randomDirection(dim, random) : direction]);
    const value = loss(embedding);
    lossHistory.push(value);
    if (value > best.loss) {
      best = { loss: value, adversarial: point.slice(), embedding };
      sinceBest = 0;
    } else sinceBest++;
    onProgress?.({ step, steps, loss: value, bestLoss: best.loss });

    if (reached(embedding)) {
      best = { loss: value, adversarial: point.slice(), embedding };
      stopReason = 'goal-reached';
      break;
    }
    if (step === steps) break;
    if (goal.kind === 'untargeted' && r.patience > 0 && sinceBest >= r.patience) {
      stopReason = 'no-improvement';
      break;
    }

    // Ascent step from the current δ, then back into the budget and the box.
    let scale = stepSize;
    if (r.norm === 'l2') scale /= Math.sqrt(gradient.reduce((s, g) => s + g * g, 0)) || Infinity;
    for (let i = 0; i < x.length; i++) {
      proposal[i] = adv[i] - x[i] + (r.norm === 'l2' ? scale * gradient[i] : stepSize * Math.sign(gradient[i]));
    }
    project(x, proposal, epsilon, adv);
    await new Promise((resolve) => setImmediate(resolve)); // lets a cancel message in between steps
  }

  const shift = Math.sqrt(squaredDistance(best.embedding, cleanEmbedding));
  return {
    adversarial: best.adversarial,
    norm: r.norm,
    epsilon,
    norms: { l2: l2Norm(x, best.adversarial), linf: linfNorm(x, best.adversarial) },
    lossHistory,
    cleanEmbedding,
    adversarialEmbedding: best.embedding,
    embeddingShift: shift,
    distance: 1 - dotProduct(cleanEmbedding, best.embedding),
    goalReached: reached(best.embedding),
    stepsRun: lossHistory.length - 1,
    stopReason,
  };
}
