/**
 * Measures the validation figures of the model cards with onnxruntime-node (the runtime the product uses), on
 * the photos held out from training: copy-detection recall@1 under crops / JPEG / colour changes, and
 * precision@10 + mAP by clothing and Caltech-101 class, for LipSim, the baseline and the teacher. Writes them into
 * models/<name>.json under "evaluation".
 *
 *   tsx scripts/train/evaluate-models.ts --data ../shared/data --teacher ../shared/teacher --models models
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { listPhotos } from '../../src/eval/datasets.js';
import { embedPhotos, openStudent, openTeacher, type VectorModel } from '../../src/eval/models.js';
import { scoreCategoryRetrieval } from '../../src/eval/categoryRetrieval.js';
import { Gallery, mean, recallAt1 } from '../../src/eval/retrieval.js';
import { applyTransform, type TransformFamily } from '../../src/eval/transforms.js';
import { seededRandom } from '../../src/util/random.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: process.env.LIPSEARCH_DATA ?? '../shared/data' },
    teacher: { type: 'string', default: process.env.LIPSEARCH_TEACHER ?? '../shared/teacher' },
    models: { type: 'string', default: 'models' },
  },
});

const FAMILIES: TransformFamily[] = ['crop', 'jpeg', 'colour'];
const CHUNK = 64;

async function main(): Promise<void> {
  const started = Date.now();
  const photos = listPhotos(args.data!).filter((p) => p.split === 'val');
  const models: VectorModel[] = [
    await openTeacher(args.teacher!),
    await openStudent('lipsim', args.models),
    await openStudent('baseline', args.models),
  ];
  const clean: Float32Array[][] = models.map(() => []);
  const queries: Record<TransformFamily, Float32Array[]>[] = models.map(() => ({}) as Record<TransformFamily, Float32Array[]>);
  for (let i = 0; i < photos.length; i += CHUNK) {
    const chunk = photos.slice(i, i + CHUNK);
    const buffers = await Promise.all(chunk.map((p) => readFile(p.file)));
    const edited = new Map<TransformFamily, Buffer[]>();
    for (const family of FAMILIES) {
      edited.set(family, await Promise.all(buffers.map((b, k) => applyTransform(family, b, seededRandom(i + k + 1000 * FAMILIES.indexOf(family))))));
    }
    for (const [m, model] of models.entries()) {
      clean[m].push(...(await embedPhotos(model, buffers)));
      for (const family of FAMILIES) (queries[m][family] ??= []).push(...(await embedPhotos(model, edited.get(family)!)));
    }
    console.log(`${Math.min(i + CHUNK, photos.length)}/${photos.length} validation photos`);
  }
  const truth = photos.map((_, i) => i);
  /** Precision@10 and mAP by class among the held-out photos of one labelled source. */
  const byClass = (m: number, source: 'clothing' | 'caltech') => {
    const members = photos.map((p, i) => ({ p, i })).filter(({ p }) => p.source === source);
    return scoreCategoryRetrieval(members.map(({ i }) => clean[m][i]), members.map(({ p }) => p.label));
  };
  const results = models.map((model, m) => {
    const gallery = new Gallery(clean[m]);
    const copy: Record<string, number> = {};
    for (const family of FAMILIES) copy[family] = recallAt1(gallery, queries[m][family], truth);
    copy.all = mean(FAMILIES.map((f) => copy[f]));
    const clothing = byClass(m, 'clothing');
    const caltech = byClass(m, 'caltech');
    return {
      model: model.label, copyDetectionRecallAt1: copy,
      clothingPrecisionAt10: clothing.precisionAt10, clothingMAP: clothing.mAP,
      caltechPrecisionAt10: caltech.precisionAt10, caltechMAP: caltech.mAP,
    };
  });
  await Promise.all(models.map((m) => m.close()));
  const [teacher] = results;
  const evaluation = {
    heldOutPhotos: photos.length,
    clothingQueries: photos.filter((p) => p.source === 'clothing').length,
    caltechQueries: photos.filter((p) => p.source === 'caltech').length,
    copyQueriesPerFamily: photos.length,
    transforms: 'crop: 10-50 % of the area removed; jpeg: quality 10-50; colour: brightness 0.7-1.3, saturation 0.5-1.5, hue ±30°, contrast 0.8-1.2 (src/eval/transforms.ts)',
    runtime: 'onnxruntime-node, CPU',
    seconds: Math.round((Date.now() - started) / 1000),
    results,
    retainedVsTeacher: Object.fromEntries(results.slice(1).map((r) => [r.model, {
      copyDetectionRecallAt1: r.copyDetectionRecallAt1.all / teacher.copyDetectionRecallAt1.all,
      clothingPrecisionAt10: r.clothingPrecisionAt10 / teacher.clothingPrecisionAt10,
      caltechPrecisionAt10: r.caltechPrecisionAt10 / teacher.caltechPrecisionAt10,
    }])),
  };
  for (const name of ['lipsim', 'baseline']) {
    const path = join(args.models!, `${name}.json`);
    const card = JSON.parse(readFileSync(path, 'utf8'));
    writeFileSync(path, JSON.stringify({ ...card, evaluation }, null, 2));
  }
  console.log(JSON.stringify(evaluation, null, 1));
}

await main();
