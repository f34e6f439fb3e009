import { expect } from 'chai';
import { explainRadius } from '../../src/certify/index.js';
import { certificateClaims, certificateSummary, copyVerdict, epsilonReading, plainFigure } from '../../src/server/guaranteeWords.js';
import { barScale, pager, timingText } from '../../src/server/pageModels.js';
import { MODEL_INPUT_VALUES, type SearchDto } from '../../src/server/presenters.js';
import { formatNumber } from '../../src/server/views.js';

const reading = (r: number | null) => (r === null ? null : explainRadius(r, MODEL_INPUT_VALUES));

/** A search answer (first page: #4, then #9, …) whose top-1 radius is `top1` (null: unbounded). */
function answerWithTop1(top1: number | null, copyCheck: object | null = null): SearchDto {
  return {
    epsilon: 0.1,
    results: [4, 9, 2].map((id, i) => ({ id, rank: i + 1 })),
    certificate: {
      scope: 'exact',
      compared: 60,
      answerSize: 10,
      radii: { top1, topkSet: 0.5, topkOrder: 0.001, perValue: { top1: reading(top1), topkSet: reading(0.5), topkOrder: reading(0.001) } },
      imagePixels: null,
      limitedBy: { top1: { ahead: 4, behind: 9 }, topkSet: { ahead: 2, behind: null }, topkOrder: { ahead: 1, behind: 2 } },
      copyCheck,
    },
  } as unknown as SearchDto;
}

const copyCheck = (fields: object) => ({
  epsilon: 0.1,
  distanceThreshold: 0.005,
  possibleCopies: [],
  listComplete: true,
  provenNoCopy: false,
  epsilonProvenNoCopy: null,
  ...fields,
});

describe('page models', () => {
  it('lead each guarantee with one plain sentence in grey levels and pixels, figures under details', () => {
    const [top1, set, order, distances] = certificateClaims(answerWithTop1(0.3));
    expect(top1.tone).to.equal('ok');
    // 0.3 spread over 150 528 values is 0.197 grey levels each; on one pixel, 0.3·255/√3 = 44 grey levels.
    expect(top1.lead).to.equal('Stable: no change smaller than 0.2 grey levels (out of 255) on every pixel, or than one pixel changed by 44 grey levels, can change the first result (#4).');
    expect(top1.details[0]).to.equal('‖δ‖₂ < r = 0.3 in model-input space (the 224×224 crop the network sees: 150 528 values in [0, 1]).');
    expect(top1.details.join(' ')).to.contain('0.197 grey levels').and.contain('Set by #9 overtaking #4 first.');
    expect(set.lead).to.equal('Stable: no change smaller than 0.33 grey levels (out of 255) on every pixel, or than one pixel changed by 74 grey levels, can change which 10 images are listed.');
    // 0.001 does not cover one grey level on one pixel: a close call, named as such.
    expect(order.tone).to.equal('warn');
    expect(order.lead).to.equal('A close call: #1 and #2 are almost tied, so even one grey level on a single pixel may change the order of the first 10 results.');
    expect(distances.lead).to.match(/^Every distance stays inside the band drawn under its result for any change within the budget ε = 0\.1 \(about 0\.066 grey levels on every pixel\)\.$/);

    const [bigger] = certificateClaims(answerWithTop1(2.5));
    expect(bigger.lead).to.contain('or than 2 pixels changed completely'); // √(3·2) < 2.5 < √(3·3)
  });

  it('say plainly when the first result is a close call, a tie, or cannot change at all', () => {
    const [close] = certificateClaims(answerWithTop1(0.002));
    expect(close.tone).to.equal('warn');
    expect(close.lead).to.equal('A close call: the first two results (#4 and #9) are almost tied, so even one grey level on a single pixel may change the first result (#4).');
    const [tie] = certificateClaims(answerWithTop1(0));
    expect(tie.tone).to.equal('bad');
    expect(tie.lead).to.equal('Not certified: #9 is exactly as close as #4, so a change of any size may change the first result (#4).');
    const [unbounded] = certificateClaims(answerWithTop1(null));
    expect(unbounded.lead).to.equal('Certain: no change of any size can change the first result (#4): no other image can overtake.');
    expect(certificateSummary(answerWithTop1(0.002))).to.deep.equal({ tone: 'warn', lead: close.lead });
  });

  it('name the two images of a close call on the list\'s edge as listed and not listed', () => {
    const dto = answerWithTop1(0.3);
    const certificate = dto.certificate as unknown as { radii: Record<string, unknown>; limitedBy: Record<string, unknown> };
    certificate.radii.topkSet = 0.002;
    (certificate.radii.perValue as Record<string, unknown>).topkSet = reading(0.002);
    certificate.limitedBy.topkSet = { ahead: 28, behind: 1 };
    certificate.limitedBy.topkOrder = { ahead: 28, behind: 1 };
    const [, set, order] = certificateClaims(dto);
    expect(set.lead).to.equal('A close call: #28 (listed) and #1 (not listed) are almost tied, so even one grey level on a single pixel may change which 10 images are listed.');
    expect(order.lead).to.match(/^A close call: #28 \(listed\) and #1 \(not listed\) are almost tied/);
  });

  it('say what the copy check means: possible copies, proven none (at its strongest ε), or index scope', () => {
    const possible = copyVerdict(answerWithTop1(0.3, copyCheck({ possibleCopies: [{ id: 12, distance: 0.001, urls: { page: '/images/12' } }] })))!;
    expect(possible.tone).to.equal('warn');
    expect(possible.lead).to.equal(
      'Possible copy: image #12 could be turned into this one by a change within the budget ε = 0.1 (about 0.066 grey levels on every pixel): close enough to be an edited copy, not proven to be one.',
    );
    const none = copyVerdict(answerWithTop1(0.3, copyCheck({ provenNoCopy: true, epsilonProvenNoCopy: 0.6 })))!;
    expect(none.tone).to.equal('ok');
    expect(none.lead).to.equal(
      'Not a copy: no image in the collection can be turned into this one by a change smaller than 0.39 grey levels (out of 255) on every pixel, or than one pixel changed by 88 grey levels.',
    );
    expect(none.details[0]).to.contain('every ε < ε* = 0.6');
    const unproven = copyVerdict(answerWithTop1(0.3, copyCheck({})))!;
    expect(unproven.lead).to.equal('No copy among the 60 images compared, but the rest of the collection was not checked (index scope): this is not a proof.');
  });

  it('print ε in its one unit with what a change of that size looks like, and where the time went', () => {
    expect(epsilonReading(36 / 255)).to.equal(
      'ε = 0.141: a change of that ℓ₂ size is, for example, 0.093 grey levels (out of 255) on every pixel, or one pixel changed by 21 grey levels.',
    );
    expect(epsilonReading(2)).to.match(/or 1 pixel changed completely\.$/);
    expect(timingText({ embedMs: 21.4, embeddedEarlier: true, searchMs: 0.84, certifyMs: 0.21, totalMs: 22.45 })).to.equal(
      '22 ms: embedding 21 ms (at upload) + search 0.8 ms + certificate 0.2 ms',
    );
    expect(timingText({ embedMs: 0, embeddedEarlier: false, searchMs: 0.84, certifyMs: 0.21, totalMs: 1.05 })).to.equal('1.1 ms: search 0.8 ms + certificate 0.2 ms');
    expect([0.0004, 0.0123, 0.5, 1, 2.44, 47.2].map(plainFigure)).to.deep.equal(['under 0.001', '0.012', '0.5', '1', '2.4', '47']);
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
