import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { projectToGrid } from '../../src/attack/gridProjection.js';
import { l2Norm, linfNorm, projectL2, projectLinf } from '../../src/attack/projection.js';
import { isEightBit, toEightBit } from '../../src/model/eightBit.js';
import { loadModelInput } from '../../src/model/preprocess.js';
import { gaussian, seededRandom } from '../../src/util/random.js';
import { COCO_DIR } from '../helpers/paths.js';

describe('attack/projectToGrid (the 8-bit grid inside the budget and the box)', () => {
  let x: Float32Array; // a real photo's model input, on the grid
  const random = seededRandom(17);

  before(async () => {
    const file = readdirSync(COCO_DIR).sort()[2];
    x = toEightBit((await loadModelInput(join(COCO_DIR, file))).pixels);
  });

  /** A PGD-like iterate: a dense random direction projected onto the ball ∩ box. */
  function iterate(norm: 'l2' | 'linf', epsilon: number, spread: number): Float32Array {
    const z = Float64Array.from(x, () => spread * gaussian(random));
    const point = new Float32Array(x.length);
    (norm === 'l2' ? projectL2 : projectLinf)(x, z, epsilon, point);
    return point;
  }

  it('l2: every result is on the grid, in [0, 1] and within ε exactly, and it spends most of the budget', () => {
    for (const epsilon of [1 / 255, 0.5, 1, 3]) {
      const point = iterate('l2', epsilon, 1);
      const out = new Float32Array(x.length);
      projectToGrid(x, point, 'l2', epsilon, out);
      expect(isEightBit(out)).to.equal(true);
      expect(out.every((v) => v >= 0 && v <= 1)).to.equal(true);
      const norm = l2Norm(x, out);
      expect(norm).to.be.at.most(epsilon);
      // Scaling before rounding keeps a dense δ of sub-level values from rounding away.
      expect(norm).to.be.above(0.9 * epsilon);
      // It still points where δ points (once the budget holds more than a few whole levels).
      let dot = 0;
      for (let i = 0; i < x.length; i++) dot += (out[i] - x[i]) * (point[i] - x[i]);
      if (epsilon >= 0.5) expect(dot / (norm * l2Norm(x, point))).to.be.above(0.3);
    }
  });

  it('l∞: whole grey levels within ε, in [0, 1]', () => {
    for (const epsilon of [1 / 255, 4 / 255, 8 / 255, 0.05]) {
      const point = iterate('linf', epsilon, 1);
      const out = new Float32Array(x.length);
      projectToGrid(x, point, 'linf', epsilon, out);
      expect(isEightBit(out)).to.equal(true);
      expect(out.every((v) => v >= 0 && v <= 1)).to.equal(true);
      expect(linfNorm(x, out)).to.be.at.most(epsilon);
      expect(linfNorm(x, out)).to.be.at.least(Math.floor(epsilon * 255 + 1e-9) / 255 - 1e-6);
    }
  });

  it('leaves x unchanged when δ is zero, and respects the box where δ pushes past it', () => {
    const out = new Float32Array(x.length);
    projectToGrid(x, x, 'l2', 1, out);
    expect(Buffer.from(out.buffer).equals(Buffer.from(x.buffer))).to.equal(true);
    // Every value pushed up by the largest move the box allows: a large ε cannot leave [0, 1].
    const up = Float32Array.from(x, (v) => Math.min(1, v + 0.02));
    projectToGrid(x, up, 'l2', 100, out);
    expect(out.every((v, i) => v >= x[i] && v <= 1)).to.equal(true);
    expect(l2Norm(x, out)).to.be.at.most(100);
  });
});
