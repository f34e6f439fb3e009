import { expect } from 'chai';
import { l2Norm, linfNorm, projectL2, projectLinf } from '../../src/attack/projection.js';
import { gaussian, seededRandom } from '../../src/util/random.js';

/** Images with saturated values (0 and 1 exactly), as real photos have, so that the box binds. */
function testImage(n: number, random: () => number): Float32Array {
  return Float32Array.from({ length: n }, () => {
    const u = random();
    return u < 0.15 ? 0 : u < 0.3 ? 1 : Math.fround(random());
  });
}

function inBox(v: Float32Array): boolean {
  return v.every((x) => x >= 0 && x <= 1);
}

/** Reference l2 projection onto ball ∩ box in float64: bisection on the scale of clip(s·z, −x, 1 − x). */
function referenceL2(x: Float32Array, z: Float64Array, epsilon: number): Float64Array {
  const at = (s: number) => Float64Array.from(x, (xi, i) => Math.min(1, Math.max(0, xi + s * z[i])) - xi);
  const norm = (d: Float64Array) => Math.sqrt(d.reduce((a, v) => a + v * v, 0));
  if (norm(at(1)) <= epsilon) return at(1);
  let lo = 0, hi = 1;
  for (let k = 0; k < 60; k++) {
    const mid = (lo + hi) / 2;
    if (norm(at(mid)) <= epsilon) lo = mid;
    else hi = mid;
  }
  return at(lo);
}

describe('attack/projection', () => {
  const random = seededRandom(4);

  it('l2: lands exactly in the ball and the box, at the Euclidean projection', () => {
    for (let trial = 0; trial < 40; trial++) {
      const n = trial === 0 ? 3 * 224 * 224 : 4000;
      const x = testImage(n, random);
      const epsilon = [0.01, 0.5, 3][trial % 3];
      const spread = [0.001, 0.05, 1][trial % 3] * (1 + random());
      const z = Float64Array.from(x, () => spread * gaussian(random));
      const out = new Float32Array(n);
      projectL2(x, z, epsilon, out);
      expect(inBox(out)).to.equal(true);
      expect(l2Norm(x, out)).to.be.at.most(epsilon);
      const reference = referenceL2(x, z, epsilon);
      const error = Math.sqrt(reference.reduce((a, d, i) => a + (out[i] - x[i] - d) ** 2, 0));
      expect(error).to.be.at.most(1e-5 * epsilon + Math.sqrt(n) * 2 ** -24); // plus one float32 rounding per value
    }
  });

  it('l2: leaves a proposal that already satisfies both constraints as it is', () => {
    const x = testImage(1000, random);
    const z = Float64Array.from(x, (xi) => Math.min(1 - xi, Math.max(-xi, 1e-3 * gaussian(random))));
    const out = new Float32Array(x.length);
    projectL2(x, z, 10, out);
    out.forEach((v, i) => expect(v).to.equal(Math.fround(x[i] + z[i])));
  });

  it('l∞: every value within ε of the clean one and in [0, 1], float32 rounding included', () => {
    for (let trial = 0; trial < 40; trial++) {
      const x = testImage(4000, random);
      const epsilon = trial % 2 ? 1 / 255 : Math.fround(random() * 0.1) * (1 + 1e-7); // awkward, unrepresentable sums
      const z = Float64Array.from(x, () => 3 * epsilon * gaussian(random));
      const out = new Float32Array(x.length);
      projectLinf(x, z, epsilon, out);
      expect(inBox(out)).to.equal(true);
      expect(linfNorm(x, out)).to.be.at.most(epsilon);
      out.forEach((v, i) => {
        const exact = Math.min(1, x[i] + epsilon, Math.max(0, x[i] - epsilon, x[i] + z[i]));
        expect(Math.abs(v - exact)).to.be.at.most(1e-7); // the clip, up to one float32 step
      });
    }
  });
});
