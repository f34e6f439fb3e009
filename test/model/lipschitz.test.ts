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
const POWER_STEPS = 8;
const ASCENT_STEPS = 6;

function norm(v: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  return Math.sqrt(s);
}

const unit = (v: Float32Array) => {
  const n = norm(v) || 1;
  return v.map((a) => a / n);
};

/**
 * Largest ‖f(x) − f(y)‖ / ‖x − y‖ found from STARTS real photos x. First, power iteration on JᵀJ at x (J·v by
 * a finite difference, Jᵀ·u by the gradient graph) finds the direction v the model stretches most; then
 * gradient ascent on the ratio itself over y, starting from y = x + s·v at scales s from 0.01 to 2.
 */
async function searchLipschitzRatio(name: ModelName, photos: Float32Array[]): Promise<number> {
  const grad = await GradientModel.open({ model: name, device: 'cpu' });
  const embedder = await Embedder.open({ model: name, device: 'cpu' });
  const fx = await embedder.embed(photos);
  const random = seededRandom(42);
  let directions = photos.map((x) => unit(Float32Array.from(x, () => gaussian(random))));
  let best = 0;
  const h = 0.01;
  for (let step = 0; step < POWER_STEPS; step++) {
    const fy = await embedder.embed(photos.map((x, i) => Float32Array.from(x, (a, k) => a + h * directions[i][k])));
    const jv = fy.map((v, i) => Float32Array.from(v, (a, k) => (a - fx[i][k]) / h));
    best = Math.max(best, ...jv.map(norm)); // = ‖f(x + h v) − f(x)‖ / ‖h v‖, a real pair
    directions = (await grad.run(photos, jv)).map((r) => unit(r.gradient));
  }
  const ys = photos.map((x, i) => {
    const scale = 0.01 * 200 ** (i / (photos.length - 1));
    return Float32Array.from(x, (a, k) => a + scale * directions[i][k]);
  });
  for (let step = 0; step < ASCENT_STEPS; step++) {
    const fy = await embedder.embed(ys);
    const out = await grad.run(ys, fy.map((v, i) => Float32Array.from(v, (a, k) => 2 * (a - fx[i][k]))));
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
