import { expect } from 'chai';
import { distanceBounds } from '../../src/certify/distanceBounds.js';
import { seededRandom } from '../../src/util/random.js';
import {
  angleOfChord, capSamples, chord, distance, nearUnit, randomUnit, rotate, tangent,
} from '../helpers/sphereSampling.js';

const TOL = 1e-12;

describe('certify/distanceBounds', () => {
  const rng = seededRandom(7);
  // Neighbours at every distance: near-duplicates, typical, near-antipodal; ε from 0 to beyond the diameter.
  const cases = Array.from({ length: 150 }, (_, n) => {
    const dim = 3 + (n % 6);
    const u = randomUnit(dim, rng);
    const y = n % 5 === 0 ? nearUnit(u, 0.02, rng) : n % 5 === 1 ? nearUnit(u.map((x) => -x), 0.05, rng) : randomUnit(dim, rng);
    const epsilon = n % 7 === 0 ? 2 + rng() : rng() * 1.2;
    return { u, y, epsilon, d: distance(u, y), bounds: distanceBounds(distance(u, y), epsilon) };
  });

  it('contains d(u′, y) for every sampled u′ of the ε-cap, boundary included', () => {
    for (const { u, y, epsilon, bounds } of cases) {
      for (const v of capSamples(u, epsilon, 300, rng)) {
        expect(chord(v, u)).to.be.at.most(epsilon + TOL);
        expect(distance(v, y)).to.be.within(bounds.lower - TOL, bounds.upper + TOL);
      }
    }
  });

  it('is exact: both endpoints are attained by points of the cap', () => {
    for (const { u, y, epsilon, d, bounds } of cases) {
      const alpha = angleOfChord(Math.sqrt(2 * d));
      const theta = angleOfChord(epsilon);
      const towardsY = tangent(u, y, rng);
      const far = rotate(u, towardsY, -Math.min(theta, Math.PI - alpha));
      const near = rotate(u, towardsY, Math.min(theta, alpha));
      expect(chord(far, u)).to.be.at.most(epsilon + TOL);
      expect(chord(near, u)).to.be.at.most(epsilon + TOL);
      expect(distance(far, y)).to.be.closeTo(bounds.upper, 1e-9);
      expect(distance(near, y)).to.be.closeTo(bounds.lower, 1e-9);
    }
  });

  it('lies inside both published intervals (Prop 4.1 and the chord-triangle sphere bound)', () => {
    for (const { bounds } of cases) {
      for (const published of [bounds.prop41, bounds.sphere]) {
        expect(bounds.lower).to.be.at.least(published.lower - TOL);
        expect(bounds.upper).to.be.at.most(published.upper + TOL);
        expect(published.lower).to.be.at.least(0);
        expect(published.upper).to.be.at.most(2);
      }
    }
    const example = distanceBounds(0.5, 0.5); // 60° neighbour, cap of 2·asin(1/4) ≈ 29°
    expect(example.upper).to.be.below(Math.min(example.prop41.upper, example.sphere.upper) - 0.01);
    expect(example.lower).to.be.above(Math.max(example.prop41.lower, example.sphere.lower) + 0.01);
  });

  it('names the narrower published bound as derived: the sphere bound wins for near neighbours', () => {
    for (const { d, epsilon, bounds } of cases) {
      if (epsilon >= 2) continue;
      const s = Math.sqrt(2 * d);
      const bothClipped = d + epsilon >= 2 && s + epsilon >= 2;
      if (bothClipped || epsilon === 0) expect(bounds.tighter.upper).to.equal('equal');
      else if (s < 1 - epsilon / 2 - 1e-9) expect(bounds.tighter.upper).to.equal('sphere');
      else if (s > 1 - epsilon / 2 + 1e-9) expect(bounds.tighter.upper).to.equal('prop41');
      if (s <= epsilon) expect(bounds.tighter.lower).to.equal('equal'); // both clip to 0
      else if (d <= epsilon || s < 1 + epsilon / 2 - 1e-9) expect(bounds.tighter.lower).to.equal('sphere');
      else if (s > 1 + epsilon / 2 + 1e-9) expect(bounds.tighter.lower).to.equal('prop41');
    }
  });

  it('rejects distances outside [0, 2] and negative ε', () => {
    expect(() => distanceBounds(-0.1, 0.1)).to.throw(RangeError);
    expect(() => distanceBounds(2.1, 0.1)).to.throw(RangeError);
    expect(() => distanceBounds(0.3, -1)).to.throw(RangeError);
    expect(() => distanceBounds(NaN, 0.1)).to.throw(RangeError);
  });
});
