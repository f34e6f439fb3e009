import { expect } from 'chai';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { PHONE_HEIGHT, PHONE_WIDTH, writePhonePhotos } from '../../src/bench/phonePhotos.js';
import { DecodePool } from '../../src/ingest/decodePool.js';
import { Embedder } from '../../src/model/embedder.js';
import { DEFAULT_MAX_PIXELS, type DecodedImage, decodeImage, loadModelInput, REDUCE_FROM, REDUCED_SIDE, toModelInput } from '../../src/model/preprocess.js';
import { axisNormUpperBound, axisResample } from '../../src/model/resize.js';
import { cocoFiles } from '../helpers/cocoVectors.js';
import { tempDir } from '../helpers/tempFolders.js';

function cosineDistance(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i]! * b[i]!;
  return 1 - dot;
}

/** The photo at its full size, oriented, as decodeImage read every photo before reduced decoding. */
async function fullSizeDecode(file: string): Promise<DecodedImage> {
  const { data, info } = await sharp(file).rotate().toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { rgb: new Uint8Array(data), width: info.width, height: info.height, photo: { width: info.width, height: info.height }, format: 'jpeg' };
}

describe('decoding phone-size photos reduced on load (real 12-megapixel JPEGs made from COCO photos)', function () {
  this.timeout(120_000);
  let dir: string;
  let landscape: string;
  let portrait: string;

  before(async () => {
    dir = tempDir('phone');
    [landscape, portrait] = await writePhonePhotos(cocoFiles(2), dir);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('decodes a 4032×3024 photo with its shorter side at twice the model input, and an EXIF portrait one turned upright', async () => {
    const wide = await decodeImage(landscape!);
    expect(wide.photo).to.deep.equal({ width: PHONE_WIDTH, height: PHONE_HEIGHT });
    expect(wide.height).to.equal(REDUCED_SIDE);
    expect(wide.width).to.be.closeTo((REDUCED_SIDE * PHONE_WIDTH) / PHONE_HEIGHT, 1);
    expect(wide.rgb.length).to.equal(wide.width * wide.height * 3);

    const tall = await decodeImage(portrait!);
    expect(tall.photo).to.deep.equal({ width: PHONE_HEIGHT, height: PHONE_WIDTH });
    expect(tall.width).to.equal(REDUCED_SIDE);
    expect(tall.height).to.equal(wide.width);
  });

  it('gives the model nearly what the full-size decoding gives, with the resize norm of the reduced image', async () => {
    const embedder = await Embedder.open({ device: 'cpu' });
    try {
      const [wide, tall] = await embedder.embed([(await loadModelInput(landscape!)).pixels, (await loadModelInput(portrait!)).pixels]);
      for (const [file, own, other] of [[landscape!, wide!, tall!], [portrait!, tall!, wide!]] as const) {
        const reduced = await decodeImage(file);
        const input = toModelInput(reduced);
        const full = toModelInput(await fullSizeDecode(file));
        let sum = 0;
        for (let i = 0; i < input.pixels.length; i++) sum += Math.abs(input.pixels[i]! - full.pixels[i]!);
        // Within a few grey levels: the two chains low-pass the grain differently.
        expect((255 * sum) / input.pixels.length, file).to.be.below(3);
        const [fullEmbedding] = await embedder.embed([full.pixels]);
        expect(cosineDistance(own, fullEmbedding!), file).to.be.below(0.05 * cosineDistance(own, other));
        // The certificate's image space is the decoded image: the norm is that of its crop and resample.
        const side = Math.min(reduced.width, reduced.height);
        const norm = axisNormUpperBound(axisResample(reduced.height, side, 224)) * axisNormUpperBound(axisResample(reduced.width, side, 224));
        expect(input.resizeNorm).to.be.closeTo(norm, 1e-9);
        expect(input.resizeNorm).to.be.above(full.resizeNorm);
      }
    } finally {
      await embedder.close();
    }
  });

  it('decodes photos whose shorter side is below the threshold at their own size', async () => {
    const file = join(dir, 'just-below.jpg');
    await sharp(cocoFiles(1)[0]).resize(1400, REDUCE_FROM - 1, { fit: 'fill' }).jpeg().toFile(file);
    const image = await decodeImage(file);
    expect([image.width, image.height]).to.deep.equal([1400, REDUCE_FROM - 1]);
    expect(image.photo).to.deep.equal({ width: 1400, height: REDUCE_FROM - 1 });
  });

  it('gives the ingest workers and the upload path the same model input, bit for bit', async () => {
    const pool = new DecodePool(1);
    try {
      for (const file of [landscape!, portrait!]) {
        const bytes = readFileSync(file);
        const ingested = await pool.decode(new Uint8Array(bytes), DEFAULT_MAX_PIXELS, join(dir, `${Math.random()}.webp`));
        const uploaded = await loadModelInput(bytes);
        expect(Buffer.from(ingested.pixels.buffer).equals(Buffer.from(uploaded.pixels.buffer)), file).to.equal(true);
        expect([ingested.width, ingested.height]).to.deep.equal([(await decodeImage(bytes)).photo.width, (await decodeImage(bytes)).photo.height]);
      }
    } finally {
      await pool.close();
    }
  });
});
