import { expect } from 'chai';
import { FLOAT_SLACK, checkCertificate, checkNeighbourIntervals, checkSelfDistance } from '../../src/compare/verdicts.js';
import { seededRandom } from '../../src/util/random.js';
import { angleOfChord, capSamples, distance, randomUnit, rotate, tangent } from '../helpers/sphereSampling.js';

describe('compare/verdicts', () => {
  const rng = seededRandom(23);

  it('self distance: within the sphere bound for every embedding a 1-Lipschitz model can reach, beyond it otherwise', () => {
    for (const l2 of [0.05, 0.5, 1, 1.9]) {
      const u = randomUnit(16, rng);
      for (const moved of capSamples(u, l2, 30, rng)) {
        const check = checkSelfDistance(u, moved, l2);
        expect(check.withinBound).to.equal(true);
        expect(check.distance).to.be.closeTo(distance(u, moved), 1e-12);
        expect(check.sphere).to.be.closeTo(Math.min(2, (l2 * l2) / 2), 1e-12);
        expect(check.prop41).to.equal(Math.min(2, l2));
      }
      // Just beyond the cap: a move of chord 1.05·l2 exceeds ‖δ‖₂²/2.
      const beyond = rotate(u, tangent(u, randomUnit(16, rng), rng), angleOfChord(1.05 * l2));
      expect(checkSelfDistance(u, beyond, l2).withinBound).to.equal(false);
    }
  });

  it('certificate: held inside the radius when unchanged, broken inside it when changed, not covered outside', () => {
    expect(checkCertificate(0.5, 0.4, false).verdict).to.equal('held');
    expect(checkCertificate(0.5, 0.4, true).verdict).to.equal('broken');
    expect(checkCertificate(0.5, 0.5, true)).to.include({ covered: false, verdict: 'not-covered' }); // r is an open bound
    expect(checkCertificate(0.5, 2, false)).to.include({ covered: false, changed: false, verdict: 'not-covered' });
    expect(checkCertificate(Infinity, 100, false).verdict).to.equal('held');
  });

  it('neighbour intervals: none left for moves within ‖δ‖₂, some for larger ones', () => {
    const u = randomUnit(12, rng);
    const neighbours = Array.from({ length: 20 }, (_, id) => ({ id, vector: randomUnit(12, rng) }));
    const l2 = 0.3;
    for (const moved of capSamples(u, l2, 20, rng)) {
      expect(checkNeighbourIntervals(u, moved, neighbours, l2)).to.deep.equal({ checked: 20, outside: [] });
    }
    // Straight towards a neighbour by chord 3·l2: its distance falls below its certified lower end.
    const towards = neighbours[4].vector;
    const far = rotate(u, tangent(u, towards, rng), angleOfChord(3 * l2));
    expect(checkNeighbourIntervals(u, far, neighbours, l2).outside).to.include(4);
    expect(FLOAT_SLACK).to.be.below(1e-4);
  });
});
