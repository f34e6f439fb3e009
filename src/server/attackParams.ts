import type { AttackNorm } from '../attack/index.js';
import type { ComparisonParams, QuerySource } from '../compare/types.js';
import { GREY_LEVELS } from '../model/eightBit.js';
import { badRequest } from './errors.js';
import { field, integer, parseEpsilonWithin } from './params.js';

type Raw = Record<string, unknown>;

/** ε presets of the attack form: the LipSim paper's ℓ₂ budgets, and small ℓ∞ ones in grey levels. */
export const EPSILON_PRESETS: Record<AttackNorm, readonly { readonly value: number; readonly text: string }[]> = {
  l2: [0.5, 1, 2, 3].map((value) => ({ value, text: String(value) })),
  linf: [1, 2, 4, 8].map((levels) => ({ value: levels / GREY_LEVELS, text: `${levels}/255` })),
};
export const DEFAULT_ATTACK_EPSILON: Record<AttackNorm, number> = { l2: 1, linf: 4 / GREY_LEVELS };
export const DEFAULT_ATTACK_STEPS = 20;
export const MAX_ATTACK_PAGE_STEPS = 200;
export const DEFAULT_ATTACK_K = 5;
export const MAX_ATTACK_K = 20;
/** ℓ∞ beyond 1 and ℓ₂ beyond the search's ε limit change nothing more (the box is [0, 1]). */
const MAX_ATTACK_EPSILON: Record<AttackNorm, number> = { l2: 100, linf: 1 };

function optionalId(source: Raw, name: string): number | undefined {
  const text = field(source, name);
  if (text === undefined) return undefined;
  if (!/^\d{1,15}$/.test(text) || !(Number(text) >= 1)) throw badRequest(`invalid_${name}`, `${name} must be the id of a corpus image (a positive integer)`);
  return Number(text);
}

/** The query named by `id` (a corpus image) or `upload` (an earlier upload's sha256); undefined when neither. */
export function parseQuerySource(source: Raw): QuerySource | undefined {
  const id = optionalId(source, 'id');
  const upload = field(source, 'upload');
  if (id !== undefined && upload !== undefined) throw badRequest('ambiguous_query', 'give either id or upload, not both');
  if (id !== undefined) return { kind: 'image', id };
  if (upload === undefined) return undefined;
  if (!/^[0-9a-f]{64}$/.test(upload)) throw badRequest('invalid_upload', 'upload must be the sha256 of an earlier upload (64 hex digits)');
  return { kind: 'upload', sha256: upload };
}

export function parseNorm(source: Raw): AttackNorm {
  const norm = field(source, 'norm') ?? 'l2';
  if (norm !== 'l2' && norm !== 'linf') throw badRequest('invalid_norm', "norm must be 'l2' or 'linf'");
  return norm;
}

/**
 * goal (untargeted, or targeted when a target is given), target, norm, epsilon (a number or a fraction such
 * as 8/255, at least one grey level), steps and k, with the form's defaults.
 */
export function parseComparisonOptions(source: Raw): Omit<ComparisonParams, 'query'> {
  const target = optionalId(source, 'target') ?? null;
  const goal = field(source, 'goal') ?? (target === null ? 'untargeted' : 'targeted');
  if (goal !== 'untargeted' && goal !== 'targeted') throw badRequest('invalid_goal', "goal must be 'untargeted' or 'targeted'");
  if (goal === 'targeted' && target === null) throw badRequest('invalid_target', 'a targeted attack needs target: the id of a corpus image');
  const norm = parseNorm(source);
  const text = field(source, 'epsilon');
  const max = MAX_ATTACK_EPSILON[norm];
  const epsilon =
    text === undefined
      ? DEFAULT_ATTACK_EPSILON[norm]
      : parseEpsilonWithin(
          text,
          1 / GREY_LEVELS,
          max,
          `epsilon must be a number from 1/255 (one grey level, the smallest change of an 8-bit image) to ${max} for ${norm}, e.g. ${EPSILON_PRESETS[norm].map((p) => p.text).slice(0, 2).join(' or ')}`,
        );
  return {
    goal,
    target: goal === 'targeted' ? target : null,
    norm,
    epsilon,
    steps: integer(source, 'steps', DEFAULT_ATTACK_STEPS, 1, MAX_ATTACK_PAGE_STEPS),
    k: integer(source, 'k', DEFAULT_ATTACK_K, 1, MAX_ATTACK_K),
  };
}
