import { runPgd, type AttackNorm } from '../attack/index.js';
import type { GradientModel } from '../model/gradient.js';
import { certifyByExactScan } from './certifiedRetrieval.js';
import { Gallery } from './retrieval.js';

export interface Budget {
  readonly norm: AttackNorm;
  readonly epsilon: number;
  readonly label: string;
}

export const L2_BUDGETS: Budget[] = [0.5, 1, 2, 3].map((e) => ({ norm: 'l2', epsilon: e, label: `l2 ${e}` }));
export const LINF_BUDGETS: Budget[] = [2, 4, 8].map((e) => ({ norm: 'linf', epsilon: e / 255, label: `linf ${e}/255` }));

export interface BudgetOutcome {
  readonly budget: string;
  readonly top1Survives: number;
  readonly topkSetSurvives: number;
  /** d(x, x + δ) for each query. */
  readonly shifts: number[];
  /** The largest d(x, x + δ) a 1-Lipschitz model allows at this l2 budget (ε²/2, sphere bound). */
  readonly bound: number | null;
  /** LipSim only: attacks that beat a certificate or a bound. Always 0 unless there is a bug. */
  readonly boundViolations: number;
  readonly certifiedButChanged: number;
}

function topIds(gallery: Gallery, v: Float32Array, k: number): number[] {
  return gallery.ranking(v).slice(0, k);
}

/**
 * Untargeted PGD on corpus images used as queries: does the top-1 (the image itself) and the top-k set survive?
 * Also checks every certified claim against the attack's outcome.
 */
export async function evaluateEmpiricalRobustness(
  model: GradientModel,
  pixels: readonly Float32Array[],
  queryIds: readonly number[],
  corpus: readonly Float32Array[],
  budgets: readonly Budget[],
  steps: number,
  k: number,
): Promise<BudgetOutcome[]> {
  const gallery = new Gallery(corpus);
  const robust = model.card.robust;
  const outcomes: BudgetOutcome[] = [];
  for (const budget of budgets) {
    let top1 = 0, set = 0, violations = 0, certifiedButChanged = 0;
    const shifts: number[] = [];
    for (const [i, x] of pixels.entries()) {
      const clean = corpus[queryIds[i]];
      const before = topIds(gallery, clean, k);
      const result = await runPgd(model, {
        model: model.card.name, pixels: x, norm: budget.norm, epsilon: budget.epsilon, steps, seed: i,
        goal: { kind: 'untargeted' },
      });
      const after = topIds(gallery, result.adversarialEmbedding, k);
      const sameTop1 = after[0] === before[0];
      if (sameTop1) top1++;
      if (after.every((id) => before.includes(id))) set++;
      shifts.push(result.distance);
      if (robust) {
        const delta = result.norms.l2;
        if (result.embeddingShift > delta * (1 + 1e-4) + 1e-6) violations++;
        const cert = certifyByExactScan(clean, corpus, k, 20);
        if (!sameTop1 && cert.top1Radius > delta) certifiedButChanged++;
      }
    }
    outcomes.push({
      budget: budget.label,
      top1Survives: top1 / pixels.length,
      topkSetSurvives: set / pixels.length,
      shifts,
      bound: budget.norm === 'l2' ? Math.min(2, budget.epsilon ** 2 / 2) : null,
      boundViolations: violations,
      certifiedButChanged,
    });
  }
  return outcomes;
}

