import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { gridValue, isEightBit, levelsOf, toEightBit } from '../../src/model/eightBit.js';
import { modelInputToPng } from '../../src/model/modelInputPng.js';
import { INPUT_SIZE, decodeImage, loadModelInput, toModelInput } from '../../src/model/preprocess.js';
import { axisNormUpperBound, axisResample } from '../../src/model/resize.js';
import { seededRandom } from '../../src/util/random.js';
import { COCO_DIR } from '../helpers/paths.js';

describe('model/modelInputPng: the model input as an exact 8-bit PNG', () => {
  it('axisResample(224, 224, 224) is the identity: one weight 1 on the same index, every other weight 0', () => {
    const axis = axisResample(INPUT_SIZE, INPUT_SIZE, INPUT_SIZE);
    for (let o = 0; o < INPUT_SIZE; o++) {
      const w = axis.weights[o];
      for (let j = 0; j < w.length; j++) expect(w[j]).to.equal(axis.start[o] + j === o ? 1 : 0);
      expect(axis.start[o]).to.be.at.most(o).and.at.least(o - 1);
    }
    // Its norm bound is 1 up to the bound's rounding margin, so radii in the PNG's pixels equal model-input radii.
    expect(axisNormUpperBound(axis)).to.be.within(1, 1 + 1e-5);
  });

  it('a 224×224 8-bit image maps through decode and resize to exactly k/255 per value', async () => {
    const random = seededRandom(4);
    const rgb = Buffer.from(Array.from({ length: 3 * INPUT_SIZE * INPUT_SIZE }, () => Math.floor(random() * 256)));
    const png = await sharp(rgb, { raw: { width: INPUT_SIZE, height: INPUT_SIZE, channels: 3 } }).png().toBuffer();
    const { pixels, resizeNorm } = toModelInput(await decodeImage(png));
    const plane = INPUT_SIZE * INPUT_SIZE;
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < 3; c++) expect(pixels[c * plane + i]).to.equal(gridValue(rgb[3 * i + c]));
    }
    expect(resizeNorm).to.be.within(1, 1 + 1e-4);
  });

  it('round-trips a real photo’s model input on the 8-bit grid bit for bit through the PNG and the upload path', async () => {
    const file = readdirSync(COCO_DIR).sort()[5];
    const { pixels } = await loadModelInput(join(COCO_DIR, file));
    const onGrid = toEightBit(pixels);
    expect(isEightBit(pixels)).to.equal(false); // the float resize is not on the grid
    expect(isEightBit(onGrid)).to.equal(true);
    // Rounding moves each value by at most half a grey level.
    expect(onGrid.every((v, i) => Math.abs(v - pixels[i]) <= 0.5 / 255 + 1e-7)).to.equal(true);
    const png = await modelInputToPng(onGrid);
    const back = (await loadModelInput(png)).pixels;
    expect(Buffer.from(back.buffer).equals(Buffer.from(onGrid.buffer))).to.equal(true);
    expect([...levelsOf(back)].every((level, i) => gridValue(level) === onGrid[i])).to.equal(true);
  });

  it('refuses a model input off the grid or of the wrong size', async () => {
    const off = new Float32Array(3 * INPUT_SIZE * INPUT_SIZE).fill(0.3);
    await modelInputToPng(off).then(
      () => expect.fail('accepted an off-grid input'),
      (err: Error) => expect(err.message).to.match(/8-bit grid/),
    );
    await modelInputToPng(new Float32Array(12)).then(
      () => expect.fail('accepted a wrong size'),
      (err: Error) => expect(err.message).to.match(/values/),
    );
  });
});
