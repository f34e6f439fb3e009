import { expect } from 'chai';
import { pairRadius, twoAfcRadius, unscoredRadius } from '../../src/certify/orderRadius.js';
import { seededRandom } from '../../src/util/random.js';
import {
  angleOfChord, capSamples, chord, distance, nearUnit, randomUnit, rotate, tangent,
} from '../helpers/sphereSampling.js';

const JUST_INSIDE = 1 - 1e-9;
const JUST_OUTSIDE = 1 + 1e-6;

describe('certify/orderRadius', () => {
  const rng = seededRandom(11);

  describe('pairRadius (2AFC on the sphere)', () => {
    // y_i closer than y_j; clustered triples make small margins (and small radii) common.
    const cases = Array.from({ length: 200 }, (_, n) => {
      const dim = 3 + (n % 5);
      const u = randomUnit(dim, rng);
      const spread = [0.05, 0.3, 1][n % 3];
      let yi = nearUnit(u, spread, rng);
      let yj = nearUnit(u, spread, rng);
      if (distance(u, yi) > distance(u, yj)) [yi, yj] = [yj, yi];
      const r = pairRadius(distance(u, yi), distance(u, yj), distance(yi, yj));
      // The worst move of f(q): along the great circle that lowers ⟨u′, y_i − y_j⟩ fastest.
      const worst = tangent(u, yi.map((x, k) => yj[k] - x), rng);
      return { u, yi, yj, r, worst };
    });

    it('keeps y_i strictly ahead of y_j for every u′ within chord r (random and worst directions)', () => {
      for (const { u, yi, yj, r, worst } of cases) {
        expect(r).to.be.above(0);
        const points = [...capSamples(u, r * JUST_INSIDE, 200, rng), rotate(u, worst, angleOfChord(r * JUST_INSIDE))];
        for (const v of points) expect(distance(v, yi)).to.be.below(distance(v, yj));
      }
    });

    it('is tight: just beyond r, the worst direction makes y_j overtake y_i', () => {
      for (const { u, yi, yj, r, worst } of cases) {
        const v = rotate(u, worst, angleOfChord(r * JUST_OUTSIDE));
        expect(chord(v, u)).to.be.closeTo(r * JUST_OUTSIDE, 1e-9);
        expect(distance(v, yi)).to.be.above(distance(v, yj));
      }
    });

    it('is at least the published 2AFC radius, and equal to first order for small margins', () => {
      for (const { u, yi, yj, r } of cases) {
        const c = twoAfcRadius(distance(u, yi), distance(u, yj), distance(yi, yj));
        expect(c).to.be.closeTo((distance(u, yj) - distance(u, yi)) / chord(yi, yj), 1e-12);
        expect(r).to.be.at.least(c);
        expect(r).to.be.at.most(c * (1 + c * c)); // ≈ c(1 + c²/8)
      }
    });

    it('gives 0 for ties and reversed pairs, +∞ for identical vectors', () => {
      expect(pairRadius(0.3, 0.3, 0.1)).to.equal(0);
      expect(pairRadius(0.4, 0.3, 0.1)).to.equal(0);
      expect(pairRadius(0.3, 0.3, 0)).to.equal(Infinity);
    });
  });

  describe('unscoredRadius (items known only by a distance lower bound D)', () => {
    const cases = Array.from({ length: 200 }, (_, n) => {
      const dim = 3 + (n % 5);
      const u = randomUnit(dim, rng);
      const yi = nearUnit(u, [0.05, 0.3, 1][n % 3], rng);
      const di = distance(u, yi);
      const D = di + (2 - di) * rng() * 0.8;
      return { u, yi, di, D, r: unscoredRadius(di, D) };
    });

    /** A unit vector at exactly distance D from u, on the great circle through u along t. */
    const atDistanceD = (u: number[], t: number[], D: number) => rotate(u, t, angleOfChord(Math.sqrt(2 * D)));

    it('keeps y_i ahead of any unit y_j with d(u, y_j) ≥ D, for every u′ within chord r', () => {
      for (const { u, yi, D, r } of cases) {
        const points = capSamples(u, r * JUST_INSIDE, 100, rng);
        const away = tangent(u, yi, rng).map((x) => -x);
        points.push(rotate(u, away, angleOfChord(r * JUST_INSIDE)));
        for (const v of points) {
          // The closest a rival at distance ≥ D can get to u′ is on the great circle from u through u′.
          const rivals = [atDistanceD(u, tangent(u, v, rng), D), atDistanceD(u, tangent(u, randomUnit(u.length, rng), rng), D)];
          for (const yj of rivals) {
            expect(distance(u, yj)).to.be.closeTo(D, 1e-9);
            expect(distance(v, yi)).to.be.below(distance(v, yj));
          }
        }
      }
    });

    it('is tight: just beyond r, some rival at distance D overtakes y_i', () => {
      for (const { u, yi, D, r } of cases) {
        const away = tangent(u, yi, rng).map((x) => -x);
        const v = rotate(u, away, angleOfChord(r * JUST_OUTSIDE));
        const yj = atDistanceD(u, away, D);
        expect(distance(v, yj)).to.be.below(distance(v, yi));
      }
    });

    it('dominates the chord-triangle bound (D − d_i)/(√(2d_i) + √(2D)) and grows with D', () => {
      for (const { di, D, r } of cases) {
        expect(r).to.be.at.least((D - di) / (Math.sqrt(2 * di) + Math.sqrt(2 * D)) - 1e-15);
        expect(unscoredRadius(di, D + 0.01)).to.be.above(r);
      }
      expect(unscoredRadius(0.3, 0.3)).to.equal(0);
      expect(unscoredRadius(0.3, 0.2)).to.equal(0);
      expect(unscoredRadius(0.3, Infinity)).to.equal(Infinity);
    });
  });
});
