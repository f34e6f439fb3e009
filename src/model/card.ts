import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../config.js';

export type ModelName = 'lipsim' | 'baseline';

/** The model card written by scripts/train/export.py (and completed by evaluate-models.ts). */
export interface ModelCard {
  readonly name: ModelName;
  /** sha256 of the embedding ONNX file: the version an index is pinned to. */
  readonly version: string;
  readonly files: { readonly embedding: string; readonly gradient: string };
  readonly sha256: Record<string, string>;
  readonly robust: boolean;
  readonly embeddingDim: number;
  readonly parameters: number;
  readonly lipschitz: { readonly constant: number | null; readonly [key: string]: unknown };
  readonly [key: string]: unknown;
}

/** Where the shipped models live; LIPSEARCH_MODELS overrides it. */
export function defaultModelsDir(): string {
  return process.env.LIPSEARCH_MODELS ?? join(PROJECT_ROOT, 'models');
}

export function loadModelCard(name: ModelName, modelsDir = defaultModelsDir()): ModelCard {
  const card = JSON.parse(readFileSync(join(modelsDir, `${name}.json`), 'utf8')) as ModelCard;
  if (card.name !== name || typeof card.version !== 'string' || !card.files?.embedding) {
    throw new Error(`model card ${name}.json in ${modelsDir} is malformed`);
  }
  return card;
}
