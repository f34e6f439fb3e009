import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelName } from '../../src/model/card.js';
import { Embedder } from '../../src/model/embedder.js';
import { GradientModel } from '../../src/model/gradient.js';
import { loadModelInput } from '../../src/model/preprocess.js';
import { gaussian, seededRandom } from '../../src/util/random.js';
import { COCO_DIR } from '../helpers/paths.js';

const STARTS = 20;
const STEPS = 12;

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

/**
 * Gradient ascent on ‖f(x) − f(y)‖ / ‖x − y‖ over y, from STARTS real photos x with y = x + a small random
 * offset (sizes 0.05 to 2 in model-input l2 norm). Returns the largest ratio seen.
 */
async function searchLipschitzRatio(name: ModelName, photos: Float32Array[]): Promise<number> {
  const grad = await GradientModel.open({ model: name, device: 'cpu' });
  const embedder = await Embedder.open({ model: name, device: 'cpu' });
  const fx = await embedder.embed(photos);
  const rand = seededRandom(42);
  const ys = photos.map((x, i) => {
    const offset = Float32Array.from(x, () => gaussian(rand));
    const scale = (0.05 * 40 ** (i / (photos.length - 1))) / norm(offset);
    return Float32Array.from(x, (v, k) => v + offset[k] * scale);
  });
  let best = 0;
  for (let step = 0; step < STEPS; step++) {
    const fy = await embedder.embed(ys);
    const dirs = fy.map((v, i) => Float32Array.from(v, (a, k) => 2 * (a - fx[i][k])));
    const out = await grad.run(ys, dirs);
    out.forEach((r, i) => {
      const dx = Float32Array.from(ys[i], (v, k) => v - photos[i][k]);
      const nx2 = norm(dx) ** 2;
      const nf2 = norm(Float32Array.from(fy[i], (v, k) => v - fx[i][k])) ** 2;
      best = Math.max(best, Math.sqrt(nf2 / nx2));
      // ∇_y (‖Δf‖² / ‖Δx‖²), then a normalised step of 10 % of ‖Δx‖.
      const g = Float32Array.from(r.gradient, (v, k) => v / nx2 - (2 * nf2 * dx[k]) / (nx2 * nx2));
      const s = (0.1 * Math.sqrt(nx2)) / (norm(g) || 1);
      for (let k = 0; k < g.length; k++) ys[i][k] += s * g[k];
    });
  }
  await grad.close();
  await embedder.close();
  return best;
}

describe('empirical Lipschitz constant (gradient search over pairs of real photos)', function () {
  let photos: Float32Array[];
  before(async () => {
    const files = readdirSync(COCO_DIR).sort().slice(0, STARTS);
    photos = (await Promise.all(files.map((f) => loadModelInput(join(COCO_DIR, f))))).map((x) => x.pixels);
  });

  it('never exceeds 1 for LipSim', async () => {
    const ratio = await searchLipschitzRatio('lipsim', photos);
    expect(ratio).to.be.above(0).and.at.most(1 + 1e-4);
  });

  it('exceeds 1 for the unconstrained baseline (so the search can find a violation)', async () => {
    expect(await searchLipschitzRatio('baseline', photos)).to.be.above(1);
  });
});
