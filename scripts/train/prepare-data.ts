/**
 * Builds the training cache: every photo of the training sources preprocessed exactly as the product does
 * (src/model/preprocess), in VIEWS augmented views, with the teacher's embedding of each view, so that
 * training never re-runs the teacher. Output (uint8 pixels, float32 embeddings, meta.json) goes to --out.
 *
 *   tsx scripts/train/prepare-data.ts --data ../shared/data --teacher ../shared/teacher/mobilenet_v2.onnx --out cache/train
 */
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { seededRandom } from '../../src/util/random.js';
import { listPhotos, type LabelledPhoto } from '../../src/eval/datasets.js';
import { decodeImage, type DecodedImage, INPUT_SIZE } from '../../src/model/preprocess.js';
import { axisResample, resampleToPlanar } from '../../src/model/resize.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: process.env.LIPSEARCH_DATA ?? '../shared/data' },
    teacher: { type: 'string', default: '../shared/teacher/mobilenet_v2.onnx' },
    out: { type: 'string', default: 'cache/train' },
    limit: { type: 'string' },
    views: { type: 'string', default: '6' },
  },
});

// View 0 is the clean photo, view 1 its flip + colour jitter, the rest random crops + flip + colour jitter.
const VIEWS = Number(args.views);
const PLANE = 3 * INPUT_SIZE * INPUT_SIZE;

/** Random-resized crop (area 30–100 %, aspect 3/4–4/3) resampled to the model input. */
function randomCrop(img: DecodedImage, rand: () => number): Float32Array {
  const area = img.width * img.height * (0.3 + 0.7 * rand());
  const aspect = Math.exp(Math.log(3 / 4) + rand() * Math.log(16 / 9));
  const w = Math.max(1, Math.min(img.width, Math.round(Math.sqrt(area * aspect))));
  const h = Math.max(1, Math.min(img.height, Math.round(Math.sqrt(area / aspect))));
  const rows = axisResample(img.height, h, INPUT_SIZE, Math.floor(rand() * (img.height - h + 1)));
  const cols = axisResample(img.width, w, INPUT_SIZE, Math.floor(rand() * (img.width - w + 1)));
  return resampleToPlanar(img.rgb, img.width, rows, cols);
}

function centreCrop(img: DecodedImage): Float32Array {
  const side = Math.min(img.width, img.height);
  return resampleToPlanar(
    img.rgb, img.width,
    axisResample(img.height, side, INPUT_SIZE), axisResample(img.width, side, INPUT_SIZE),
  );
}

/** Horizontal flip and brightness / contrast / saturation jitter (factors in [0.6, 1.4]), in place. */
function flipAndJitter(x: Float32Array, rand: () => number): Float32Array {
  const n = INPUT_SIZE * INPUT_SIZE;
  if (rand() < 0.5) {
    for (let c = 0; c < 3; c++) {
      for (let y = 0; y < INPUT_SIZE; y++) {
        const row = c * n + y * INPUT_SIZE;
        for (let i = 0, j = INPUT_SIZE - 1; i < j; i++, j--) {
          const t = x[row + i];
          x[row + i] = x[row + j];
          x[row + j] = t;
        }
      }
    }
  }
  const brightness = 0.6 + 0.8 * rand();
  const contrast = 0.6 + 0.8 * rand();
  const saturation = 0.6 + 0.8 * rand();
  let mean = 0;
  for (let i = 0; i < n; i++) mean += 0.299 * x[i] + 0.587 * x[n + i] + 0.114 * x[2 * n + i];
  mean = (mean / n) * brightness;
  const jitter = (v: number, grey: number) =>
    Math.min(1, Math.max(0, mean + (grey + (v - grey) * saturation - mean) * contrast));
  for (let i = 0; i < n; i++) {
    const r = x[i] * brightness, g = x[n + i] * brightness, b = x[2 * n + i] * brightness;
    const grey = 0.299 * r + 0.587 * g + 0.114 * b;
    x[i] = jitter(r, grey);
    x[n + i] = jitter(g, grey);
    x[2 * n + i] = jitter(b, grey);
  }
  return x;
}

async function main(): Promise<void> {
  let items = listPhotos(args.data!);
  if (args.limit) items = items.slice(0, Number(args.limit));
  mkdirSync(args.out!, { recursive: true });
  const session = await ort.InferenceSession.create(args.teacher!, { intraOpNumThreads: 2 });
  const pixelsOut = createWriteStream(join(args.out!, 'pixels.u8'));
  const teacherOut = createWriteStream(join(args.out!, 'teacher.f32'));
  const kept: LabelledPhoto[] = [];
  const started = Date.now();
  const batchItems = Math.max(1, Math.round(32 / VIEWS)); // a teacher batch of about 32 views

  async function prepareBatch(first: number): Promise<{ batch: Float32Array; bytes: Buffer; count: number }> {
    const views: Float32Array[] = [];
    for (const item of items.slice(first, first + batchItems)) {
      let img: DecodedImage;
      try {
        img = await decodeImage(item.file);
      } catch (err) {
        console.warn(`skip ${item.file}: ${(err as Error).message}`);
        continue;
      }
      const rand = seededRandom(createHash('sha256').update(item.file).digest().readUInt32BE(0));
      views.push(centreCrop(img), flipAndJitter(centreCrop(img), rand));
      for (let v = 2; v < VIEWS; v++) views.push(flipAndJitter(randomCrop(img, rand), rand));
      kept.push(item);
    }
    const batch = new Float32Array(views.length * PLANE);
    const bytes = Buffer.alloc(views.length * PLANE);
    views.forEach((v, i) => {
      batch.set(v, i * PLANE);
      for (let k = 0; k < PLANE; k++) bytes[i * PLANE + k] = Math.round(v[k] * 255);
    });
    return { batch, bytes, count: views.length };
  }

  // The teacher runs on its own threads while the next batch is decoded and augmented.
  let next = prepareBatch(0);
  for (let b = 0; b < items.length; b += batchItems) {
    const { batch, bytes, count } = await next;
    const running = count
      ? session.run({ pixels: new ort.Tensor('float32', batch, [count, 3, INPUT_SIZE, INPUT_SIZE]) })
      : null;
    next = b + batchItems < items.length ? prepareBatch(b + batchItems) : Promise.resolve({ batch, bytes, count: 0 });
    if (!running) continue;
    const emb = (await running).embedding.data as Float32Array;
    pixelsOut.write(bytes);
    teacherOut.write(Buffer.from(emb.buffer, emb.byteOffset, emb.byteLength));
    if ((b / batchItems) % 25 === 0) {
      const rate = (kept.length * VIEWS) / ((Date.now() - started) / 1000);
      console.log(`${kept.length}/${items.length} images, ${rate.toFixed(1)} views/s`);
    }
  }
  await next;
  await Promise.all([pixelsOut, teacherOut].map((s) => new Promise((r) => s.end(r))));
  const teacherDim = 1280;
  writeFileSync(
    join(args.out!, 'meta.json'),
    JSON.stringify({ views: VIEWS, size: INPUT_SIZE, teacher: args.teacher, teacherDim, items: kept }, null, 1),
  );
  console.log(`done: ${kept.length} images × ${VIEWS} views in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

await main();
