/**
 * Writes the model inputs of a few real photos, preprocessed by the product's own code, for export.py to
 * embed with PyTorch: the TypeScript parity test then re-embeds the same files through onnxruntime-node.
 *
 *   tsx scripts/train/golden-inputs.ts --data ../shared/data --out cache/train/golden
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { loadModelInput } from '../../src/model/preprocess.js';

/** Paths relative to the data directory: two photos from each source, different sizes and aspect ratios. */
const GOLDEN_FILES = [
  'coco/images/000000010005.jpg',
  'coco/images/000000010012.jpg',
  'imagenet-sample/images/n01440764_tench.jpg',
  'imagenet-sample/images/n01443537_goldfish.jpg',
  'clothing/images/dress/009b3c31-fb62-45c0-be9a-37a5c238cb88.jpg',
  'clothing/images/dress/041c6bde-e737-46fd-9586-984c1503941f.jpg',
];

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: process.env.LIPSEARCH_DATA ?? '../shared/data' },
    out: { type: 'string', default: 'cache/train/golden' },
  },
});

mkdirSync(args.out!, { recursive: true });
const inputs = await Promise.all(GOLDEN_FILES.map((f) => loadModelInput(join(args.data!, f))));
const all = new Float32Array(inputs.reduce((n, x) => n + x.pixels.length, 0));
inputs.forEach((x, i) => all.set(x.pixels, i * x.pixels.length));
writeFileSync(join(args.out!, 'inputs.f32'), Buffer.from(all.buffer));
writeFileSync(join(args.out!, 'files.json'), JSON.stringify(GOLDEN_FILES));
console.log(`wrote ${GOLDEN_FILES.length} golden inputs to ${args.out}`);
