import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { defaultModelsDir, type ModelName } from '../model/card.js';
import { GradientModel } from '../model/gradient.js';
import { loadModelInput } from '../model/preprocess.js';
import { evaluateCertifiedRetrieval, type CertifiedRetrieval } from './certifiedRetrieval.js';
import { evaluateCategoryRetrieval, heldOutPhotosOf, type CategoryRetrieval } from './categoryRetrieval.js';
import { evaluateCopyDetection, type CopyDetectionResult } from './copyDetection.js';
import { cocoCategories, listPhotos } from './datasets.js';
import { evaluateEmpiricalRobustness, L2_BUDGETS, LINF_BUDGETS, type BudgetOutcome } from './empiricalRobustness.js';
import { openRandomInitFloor, RANDOM_INIT_FLOOR, thumbnailFloor } from './floors.js';
import { evaluateHumanJudgements, type TwoAfcSection } from './humanJudgements.js';
import { embedPhotos, embedPhotosWithEach, inGallerySpace, openStudent, openTeacher, type VectorModel } from './models.js';
import { summariseQuality, type QualitySummary } from './qualitySummary.js';
import { evaluateSemanticRetrieval, type SemanticScores } from './semanticRetrieval.js';
import { applyTransform, TRANSFORM_FAMILIES } from './transforms.js';
import { seededRandom } from '../util/random.js';

export interface EvalOptions {
  readonly dataDir: string;
  readonly teacherDir: string;
  readonly modelsDir?: string;
  readonly quick: boolean;
  readonly seed: number;
  readonly log: (line: string) => void;
}

export interface ModelInfo {
  /** sha256 of the ONNX file; null for the teacher (external) and the thumbnail floor (computed, no file). */
  readonly version: string | null;
  readonly robust: boolean | null;
  readonly role: 'model' | 'reference' | 'floor';
}

export interface EvalReport {
  readonly createdAt: string;
  readonly options: { quick: boolean; seed: number };
  /** Everything measured: the models, the teacher (the reference) and the floors present. */
  readonly models: Record<string, ModelInfo>;
  /** Floors that could not be measured, with the reason. */
  readonly absentFloors: Record<string, string>;
  /** The headline figure of each quality section, per model and floor. */
  readonly qualityOnHeldOutPhotos: QualitySummary;
  readonly copyDetection: { originals: number; families: readonly string[]; results: CopyDetectionResult };
  readonly semanticRetrieval: Record<string, SemanticScores>;
  /** Per labelled dataset (clothing, Caltech-101): held-out photos retrieving their own class. */
  readonly categoryRetrieval: Record<string, CategoryRetrieval>;
  readonly certifiedRetrieval: Record<string, { nearCopyQueries: CertifiedRetrieval; novelQueries: CertifiedRetrieval }>;
  readonly empiricalRobustness: { queries: number; steps: number; k: number; results: Record<string, BudgetOutcome[]> };
  readonly twoAfc: TwoAfcSection;
  readonly seconds: number;
}

const K = 10;

/** Labelled datasets of the category-retrieval section: report name → listPhotos source. */
const CATEGORY_DATASETS = { clothing: 'clothing', 'Caltech-101': 'caltech' } as const;

/** Runs every section of `npm run eval` (see README, "Evaluation"). */
export async function runEval(o: EvalOptions): Promise<EvalReport> {
  const started = Date.now();
  const size = o.quick
    ? { originals: 24, families: ['crop', 'jpeg'] as const, cocoQueries: 40, categoryPhotos: 60, attackQueries: 3, steps: 5 }
    : { originals: 300, families: TRANSFORM_FAMILIES, cocoQueries: Infinity, categoryPhotos: Infinity, attackQueries: 20, steps: 20 };
  const students: ModelName[] = ['lipsim', 'baseline'];
  const models: VectorModel[] = [
    ...(await Promise.all(students.map((s) => openStudent(s, o.modelsDir)))),
    await openTeacher(o.teacherDir),
  ];
  const randomInit = await openRandomInitFloor(o.modelsDir ?? defaultModelsDir());
  const floors: { model: VectorModel; version: string | null }[] = [
    { model: thumbnailFloor(), version: null },
    ...('model' in randomInit ? [randomInit] : []),
  ];
  // Quality sections measure the floors beside the models; robustness sections do not (floors have no certificate).
  const quality = [...models, ...floors.map((f) => f.model)];
  const cards = Object.fromEntries(await Promise.all(students.map(async (s) => {
    const g = await GradientModel.open({ model: s, device: 'cpu', ...(o.modelsDir ? { modelsDir: o.modelsDir } : {}) });
    return [s, g] as const;
  })));

  // 1. Copy detection on photos held out from training.
  const rand = seededRandom(o.seed);
  const photos = listPhotos(o.dataDir);
  const held = photos.filter((p) => p.split === 'val');
  const originals = held.map((p) => ({ p, r: rand() })).sort((a, b) => a.r - b.r).slice(0, size.originals).map(({ p }) => p.file);
  o.log(`copy detection: ${originals.length} originals × ${size.families.length} transforms`);
  const copyDetection = await evaluateCopyDetection(quality, originals, size.families, o.seed);

  // 2. Semantic retrieval on the COCO set (annotated images).
  const cocoDir = join(o.dataDir, 'coco', 'images');
  const categories = cocoCategories(o.dataDir);
  const cocoFiles = readdirSync(cocoDir).sort().slice(0, size.cocoQueries);
  const annotated = cocoFiles.filter((f) => categories.has(f));
  o.log(`semantic retrieval: ${annotated.length} annotated COCO images`);
  const semanticRetrieval: Record<string, SemanticScores> = {};
  const cocoVectors = new Map<string, Float32Array[]>();
  const cocoPerModel = await embedPhotosWithEach(quality, cocoFiles.map((f) => join(cocoDir, f)));
  for (const [i, m] of quality.entries()) {
    const vectors = cocoPerModel[i];
    cocoVectors.set(m.label, vectors);
    const byFile = new Map(cocoFiles.map((f, j) => [f, vectors[j]]));
    const toCorpusSpace = inGallerySpace(m, vectors);
    semanticRetrieval[m.label] = evaluateSemanticRetrieval(annotated.map((f) => toCorpusSpace(byFile.get(f)!)), annotated.map((f) => categories.get(f)!));
  }

  // 3. Category retrieval on held-out labelled photos; 4. human perceptual judgements (2AFC).
  const categoryRetrieval: Record<string, CategoryRetrieval> = {};
  for (const [name, source] of Object.entries(CATEGORY_DATASETS)) {
    const sample = heldOutPhotosOf(photos, source, size.categoryPhotos, seededRandom(o.seed));
    if (sample.length === 0) continue;
    o.log(`category retrieval: ${sample.length} held-out ${name} photos`);
    categoryRetrieval[name] = await evaluateCategoryRetrieval(quality, sample);
  }
  o.log('2AFC: cars');
  const twoAfc = await evaluateHumanJudgements(quality, join(o.dataDir, 'human-triplets', 'cars'), 'cars');

  // 5. Certified retrieval (LipSim): near-copy queries (JPEG copies of corpus photos), novel ones (leave-one-out).
  o.log('certified retrieval');
  const certifiedRetrieval: EvalReport['certifiedRetrieval'] = {};
  const copies = await Promise.all(cocoFiles.map(async (f, i) => applyTransform('jpeg', await readFile(join(cocoDir, f)), seededRandom(o.seed + i))));
  // Only a proven 1-Lipschitz model has certificates: the baseline's "radii" would be claims without a proof.
  for (const m of models.filter((model) => cards[model.label as ModelName]?.card.robust)) {
    const corpus = cocoVectors.get(m.label)!;
    const nearCopies = await embedPhotos(m, copies);
    certifiedRetrieval[m.label] = {
      nearCopyQueries: evaluateCertifiedRetrieval(nearCopies, corpus, K, false),
      novelQueries: evaluateCertifiedRetrieval(corpus, corpus, K, true),
    };
  }

  // 6. Empirical robustness: untargeted PGD on corpus photos used as queries.
  const attackIds = cocoFiles.map((_, i) => i).filter((i) => i % Math.max(1, Math.floor(cocoFiles.length / size.attackQueries)) === 0).slice(0, size.attackQueries);
  const attackPixels = await Promise.all(attackIds.map(async (i) => (await loadModelInput(join(cocoDir, cocoFiles[i]))).pixels));
  const budgets = o.quick ? [L2_BUDGETS[0], L2_BUDGETS[2], LINF_BUDGETS[0]] : [...L2_BUDGETS, ...LINF_BUDGETS];
  const robustness: Record<string, BudgetOutcome[]> = {};
  for (const s of students) {
    o.log(`empirical robustness: ${s}, ${attackIds.length} queries × ${budgets.length} budgets`);
    robustness[s] = await evaluateEmpiricalRobustness(cards[s], attackPixels, attackIds, cocoVectors.get(s)!, budgets, size.steps, K);
  }

  const modelInfo: Record<string, ModelInfo> = Object.fromEntries(models.map((m, i) => {
    const card = i < students.length ? cards[students[i]].card : null;
    return [m.label, { version: card?.version ?? null, robust: card?.robust ?? null, role: card ? 'model' : 'reference' }];
  }));
  for (const f of floors) modelInfo[f.model.label] = { version: f.version, robust: null, role: 'floor' };
  await Promise.all([...quality.map((m) => m.close()), ...Object.values(cards).map((g) => g.close())]);
  return {
    createdAt: new Date().toISOString(),
    options: { quick: o.quick, seed: o.seed },
    models: modelInfo,
    absentFloors: 'absent' in randomInit ? { [RANDOM_INIT_FLOOR]: randomInit.absent } : {},
    qualityOnHeldOutPhotos: summariseQuality(quality.map((m) => m.label), { copyDetection, semanticRetrieval, categoryRetrieval, twoAfc }),
    copyDetection: { originals: originals.length, families: size.families, results: copyDetection },
    semanticRetrieval,
    categoryRetrieval,
    certifiedRetrieval,
    empiricalRobustness: { queries: attackIds.length, steps: size.steps, k: K, results: robustness },
    twoAfc,
    seconds: Math.round((Date.now() - started) / 1000),
  };
}
