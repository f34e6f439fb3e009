import { expect } from 'chai';
import { barScale, certificateClaims, certificateSummary, pager } from '../../src/server/pageModels.js';
import type { SearchDto } from '../../src/server/presenters.js';
import { formatNumber } from '../../src/server/views.js';

/** The certificate part of a search answer, with the given top-1 radius (null: unbounded). */
function answerWithTop1(top1: number | null): SearchDto {
  const perValue = (r: number | null) => (r === null ? null : { l2: r, perValue: r / 388, greyLevels: (255 * r) / 388 });
  return {
    epsilon: 0.1,
    certificate: {
      scope: 'exact',
      answerSize: 10,
      radii: { top1, topkSet: 0.01, topkOrder: 0.001, perValue: { top1: perValue(top1), topkSet: perValue(0.01), topkOrder: perValue(0.001) } },
      imagePixels: null,
      limitedBy: { top1: { ahead: 4, behind: 9 }, topkSet: { ahead: 2, behind: null }, topkOrder: { ahead: 1, behind: 2 } },
    },
  } as unknown as SearchDto;
}

describe('page models', () => {
  it('word the top-1 claim by its radius: certified, a tie, or unbounded', () => {
    const [certified] = certificateClaims(answerWithTop1(0.02));
    expect(certified.tone).to.equal('ok');
    expect(`${certified.text} ${certified.figure}`).to.equal('The first result (#4) cannot change for any perturbation of the query smaller than r = 0.02');
    expect(certified.details[0]).to.match(/grey levels on every value of the 224×224 input/);

    const [tie] = certificateClaims(answerWithTop1(0));
    expect(tie.tone).to.equal('bad');
    expect(tie.text).to.match(/not certified: image #9 is exactly as close/);

    const [unbounded] = certificateClaims(answerWithTop1(null));
    expect(unbounded.text).to.match(/cannot change for any perturbation: no other image can overtake/);
    expect(certificateSummary(answerWithTop1(0.02))).to.equal('Top-1 answer certified for every perturbation with ‖δ‖₂ < 0.02 · scope exact · see the certificate');
  });

  it('page with the first and last pages always reachable and gaps marked', () => {
    const p = pager('Pages', 5, 10, (n) => `/?page=${n}`);
    expect(p.items.map((i) => (i.gap ? '…' : String(i.number)))).to.deep.equal(['1', '…', '3', '4', '5', '6', '7', '…', '10']);
    expect(p.items.find((i) => i.current)?.number).to.equal(5);
    expect(p.prevUrl).to.equal('/?page=4');
    expect(p.nextUrl).to.equal('/?page=6');
    expect(pager('Pages', 1, 1, String).items).to.deep.equal([]);
  });

  it('scale the bars to the largest upper bound, rounded up, within [0, 2]', () => {
    expect(barScale([0.012, 0.0149])).to.equal(0.015);
    expect(barScale([0.31, 0.62])).to.be.closeTo(0.65, 1e-12);
    expect(barScale([1.99, 2])).to.equal(2);
  });

  it('format numbers compactly without dropping significant zeros', () => {
    expect([100, 120, 36, 0.1, 0.141176, 0.00123, 12345, 0].map(formatNumber)).to.deep.equal(['100', '120', '36', '0.1', '0.141', '1.23e-3', '1.23e+4', '0']);
  });
});
