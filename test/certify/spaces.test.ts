import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { certifyAnswer } from '../../src/certify/answerCertificate.js';
import { certificateInImageSpace, explainRadius, imageToModelEpsilon, modelToImageRadius } from '../../src/certify/spaces.js';
import { decodeImage, INPUT_SIZE, toModelInput } from '../../src/model/preprocess.js';
import { axisResample } from '../../src/model/resize.js';
import { seededRandom } from '../../src/util/random.js';
import { COCO_DIR } from '../helpers/paths.js';
import { nearUnit, randomUnit } from '../helpers/sphereSampling.js';

const MODEL_VALUES = 3 * 224 * 224;

function l2(a: ArrayLike<number>, b: ArrayLike<number>, scale = 1): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += ((a[i] - b[i]) / scale) ** 2;
  return Math.sqrt(s);
}

describe('certify/spaces', () => {
  it('converts radii between image and model-input space soundly on real photos (resize is linear, ‖R‖ ≤ resizeNorm)', async () => {
    const rng = seededRandom(9);
    const files = readdirSync(COCO_DIR).sort().slice(0, 3);
    for (const file of files) {
      const image = await decodeImage(join(COCO_DIR, file));
      const clean = toModelInput(image);
      // A smooth edit (brightness ramp) and a sparse one (a few pixels changed a lot).
      for (const edit of ['ramp', 'sparse'] as const) {
        const rgb = Uint8Array.from(image.rgb, (v, i) => {
          const delta = edit === 'ramp' ? Math.round(3 * (i / image.rgb.length)) : rng() < 0.001 ? 60 : 0;
          return Math.min(255, v + delta);
        });
        const edited = toModelInput({ ...image, rgb });
        const imageNorm = l2(rgb, image.rgb, 255);
        const modelNorm = l2(edited.pixels, clean.pixels);
        expect(modelNorm).to.be.above(0);
        // So an edit smaller than modelToImageRadius(r) stays inside the model-space radius r.
        expect(modelNorm).to.be.at.most(imageToModelEpsilon(imageNorm, clean.resizeNorm) * (1 + 1e-5));
      }
    }
  });

  it('rescales every radius of a certificate and keeps the rest', () => {
    const rng = seededRandom(1);
    const u = randomUnit(5, rng);
    const items = Array.from({ length: 4 }, (_, id) => ({ id, vector: nearUnit(u, 0.3, rng) }));
    const certificate = certifyAnswer({ query: u, topK: items.slice(0, 2), challengers: items.slice(2), otherDistanceLowerBound: 1 });
    const image = certificateInImageSpace(certificate, 0.5);
    expect(image.top1Radius).to.equal(certificate.top1Radius / 0.5);
    expect(image.topkSetRadius).to.equal(certificate.topkSetRadius / 0.5);
    expect(image.topkOrderRadius).to.equal(certificate.topkOrderRadius / 0.5);
    expect(image.limitedBy).to.deep.equal(certificate.limitedBy);
    expect(image.distances).to.deep.equal(certificate.distances);
    expect(modelToImageRadius(imageToModelEpsilon(0.7, 0.43), 0.43)).to.be.closeTo(0.7, 1e-15);
    expect(() => modelToImageRadius(1, 0)).to.throw(RangeError);
  });

  it('explains a radius as an even change per value (the l∞ ball it contains), in grey levels', () => {
    const rng = seededRandom(2);
    const radius = 0.8;
    const { l2: r, perValue, greyLevels } = explainRadius(radius, MODEL_VALUES);
    expect(r).to.equal(radius);
    expect(greyLevels).to.be.closeTo(perValue * 255, 1e-15);
    // Every value moved by ±perValue: exactly the radius; any change of at most perValue per value: within it.
    const even = Float64Array.from({ length: MODEL_VALUES }, () => (rng() < 0.5 ? -perValue : perValue));
    expect(l2(even, new Float64Array(MODEL_VALUES))).to.be.closeTo(radius, 1e-9);
    const inside = Float64Array.from({ length: MODEL_VALUES }, () => (2 * rng() - 1) * perValue);
    expect(l2(inside, new Float64Array(MODEL_VALUES))).to.be.below(radius);
    expect(() => explainRadius(1, 0)).to.throw(RangeError);
  });

  it('explains a radius as pixels changed: one pixel by some grey levels, or whole pixels from black to white', () => {
    const pixelChange = (pixels: number, levels: number) => Math.sqrt(3 * pixels) * (levels / 255); // l2 of the change
    for (const radius of [0.001, 0.05, 0.33, 1.5, 2, Math.sqrt(3), Math.sqrt(3 * 7), 10]) {
      const { onePixelGreyLevels, wholePixels } = explainRadius(radius, MODEL_VALUES);
      // The largest change of each kind that stays strictly below the radius.
      if (onePixelGreyLevels < 255) expect(pixelChange(1, onePixelGreyLevels)).to.be.closeTo(radius, 1e-12);
      else expect(pixelChange(1, 255)).to.be.below(radius + 1e-12);
      if (wholePixels > 0) expect(pixelChange(wholePixels, 255)).to.be.below(radius);
      expect(pixelChange(wholePixels + 1, 255)).to.be.at.least(radius);
    }
    expect(explainRadius(0.33, MODEL_VALUES)).to.include({ wholePixels: 0 });
    expect(explainRadius(Math.sqrt(3), MODEL_VALUES)).to.include({ wholePixels: 0, onePixelGreyLevels: 255 }); // √3 exactly: strict
    expect(explainRadius(1e6, 12).wholePixels).to.equal(4); // never more pixels than there are
  });

  it('the grey-level reading holds in the image\'s own pixels: every model-input value is an average of image values', () => {
    // docs/certificates.md §6: non-negative weights summing to 1 give ‖Rη‖∞ ≤ ‖η‖∞. Checked on each axis of the
    // resample (R is separable), for photo sizes, a 1-pixel crop and upscaling, then on an edit at its bound.
    const rand = seededRandom(5);
    for (const [inSize, crop] of [[640, 480], [480, 480], [4032, 3024], [100, 100], [7, 1], [224, 224]]) {
      const axis = axisResample(inSize, crop, INPUT_SIZE);
      for (const row of axis.weights) {
        expect(Math.min(...row)).to.be.at.least(0);
        expect(row.reduce((a, b) => a + b, 0)).to.be.closeTo(1, 1e-6);
      }
      const bound = 3 / 255;
      const edit = Float32Array.from({ length: inSize }, () => (rand() < 0.5 ? -bound : bound));
      axis.weights.forEach((row, o) => {
        const moved = row.reduce((acc, w, j) => acc + w * edit[axis.start[o] + j], 0);
        expect(Math.abs(moved)).to.be.at.most(bound * (1 + 1e-6));
      });
    }
  });
});

