/**
 * Packs the training photos small enough to travel to a GPU machine that cannot read ../shared: each photo is
 * decoded by the product's own code (EXIF orientation, sRGB, alpha on white), centre-cropped to a square,
 * resized to --side pixels and re-encoded as JPEG; the teacher ONNX file is copied beside them.
 * gpu_burst.py reads the pack. Output: <out>/photos.bin (concatenated JPEGs), <out>/index.json, <out>/teacher.onnx.
 *
 *   tsx scripts/train/pack-photos.ts --data ../shared/data --teacher ../shared/teacher/mobilenet_v2.onnx --out cache/gpu-pack
 */
import { copyFileSync, mkdirSync, openSync, closeSync, writeSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import { listPhotos } from '../../src/eval/datasets.js';
import { decodeImage } from '../../src/model/preprocess.js';
import { seededRandom } from '../../src/util/random.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: process.env.LIPSEARCH_DATA ?? '../shared/data' },
    teacher: { type: 'string', default: '../shared/teacher/mobilenet_v2.onnx' },
    out: { type: 'string', default: 'cache/gpu-pack' },
    side: { type: 'string', default: '112' },
    quality: { type: 'string', default: '75' },
    'max-mib': { type: 'string', default: '30' },
    'max-val': { type: 'string', default: '600' },
    limit: { type: 'string' },
  },
});

interface PackedPhoto {
  readonly file: string;
  readonly source: string;
  readonly label: string;
  readonly split: 'train' | 'val';
  readonly offset: number;
  readonly length: number;
}

async function main(): Promise<void> {
  const side = Number(args.side);
  const budget = Number(args['max-mib']) * 2 ** 20;
  const rand = seededRandom(13);
  const all = listPhotos(args.data!).map((p) => ({ p, r: rand() })).sort((a, b) => a.r - b.r).map(({ p }) => p);
  // Held-out photos only validate the burst: a bounded sample of them, then as many training photos as fit.
  const val = all.filter((p) => p.split === 'val').slice(0, Number(args['max-val']));
  let photos = [...val, ...all.filter((p) => p.split === 'train')];
  if (args.limit) photos = photos.slice(0, Number(args.limit));
  mkdirSync(args.out!, { recursive: true });
  const fd = openSync(join(args.out!, 'photos.bin'), 'w');
  const index: PackedPhoto[] = [];
  let offset = 0;
  for (const photo of photos) {
    let jpeg: Buffer;
    try {
      const img = await decodeImage(photo.file);
      jpeg = await sharp(Buffer.from(img.rgb), { raw: { width: img.width, height: img.height, channels: 3 } })
        .resize(side, side, { fit: 'cover' })
        .jpeg({ quality: Number(args.quality) })
        .toBuffer();
    } catch (err) {
      console.warn(`skip ${photo.file}: ${(err as Error).message}`);
      continue;
    }
    if (offset + jpeg.length > budget) break;
    writeSync(fd, jpeg);
    index.push({ file: relative(args.data!, photo.file), source: photo.source, label: photo.label, split: photo.split, offset, length: jpeg.length });
    offset += jpeg.length;
  }
  closeSync(fd);
  copyFileSync(args.teacher!, join(args.out!, 'teacher.onnx'));
  writeFileSync(join(args.out!, 'index.json'), JSON.stringify({ side, photos: index }));
  const counts = { train: index.filter((p) => p.split === 'train').length, val: index.filter((p) => p.split === 'val').length };
  console.log(`packed ${index.length} photos (${counts.train} train, ${counts.val} held out), ${(offset / 2 ** 20).toFixed(1)} MiB, in ${args.out}`);
}

await main();
