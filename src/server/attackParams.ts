import { z } from 'zod';
import type { AttackNorm } from '../attack/index.js';
import type { ComparisonParams, QuerySource } from '../compare/types.js';
import { GREY_LEVELS } from '../model/eightBit.js';
import { choice, customIssue, decimalOrFraction, readRequest, wholeNumber } from './requestFields.js';

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
const EPSILON_RANGE =
  `from 1/255 (one grey level, the smallest change of an 8-bit image) to ${MAX_ATTACK_EPSILON.l2} for l2 or ${MAX_ATTACK_EPSILON.linf} for linf, ` +
  `e.g. ${EPSILON_PRESETS.l2[0]!.text} or ${EPSILON_PRESETS.linf[2]!.text}`;

const corpusId = (description: string) => {
  const must = { error: 'must be the id of a corpus image (a positive integer)' };
  return z.int(must).min(1, must).max(Number.MAX_SAFE_INTEGER, must).optional().describe(description);
};

/**
 * The fields of a request to start an attack comparison (JSON body or form fields), with the rules across
 * fields: the query is id or upload (or an image file, outside this schema), a targeted attack names its target,
 * and ε's upper limit depends on the norm.
 */
export const attackStartFields = z
  .object({
    id: corpusId('query: a corpus image'),
    upload: z
      .string()
      .regex(/^[0-9a-f]{64}$/, { error: 'must be the sha256 of an earlier upload (64 hex digits)' })
      .optional()
      .describe('query: an earlier upload (its sha256)'),
    goal: choice(['untargeted', 'targeted'], 'untargeted by default, targeted when a target is given').optional(),
    target: corpusId('targeted: the corpus image to bring to the top'),
    norm: choice(['l2', 'linf'], 'the norm of the budget').default('l2'),
    epsilon: decimalOrFraction(`must be a number ${EPSILON_RANGE}`, { min: 1 / GREY_LEVELS, max: MAX_ATTACK_EPSILON.l2 })
      .optional()
      .meta({
        description: `budget of ‖δ‖ in model-input space (values in [0, 1]); a number or a fraction, ${EPSILON_RANGE}. Default ${DEFAULT_ATTACK_EPSILON.l2} (l2), 4/255 (linf)`,
        examples: ['8/255', 1],
      }),
    steps: wholeNumber(1, MAX_ATTACK_PAGE_STEPS, DEFAULT_ATTACK_STEPS, 'attack steps'),
    k: wholeNumber(1, MAX_ATTACK_K, DEFAULT_ATTACK_K, 'results listed before and after'),
  })
  .superRefine((fields, ctx) => {
    if (fields.id !== undefined && fields.upload !== undefined) ctx.addIssue(customIssue('ambiguous_query', 'give either id or upload, not both'));
    if (fields.goal === 'targeted' && fields.target === undefined) {
      ctx.addIssue(customIssue('invalid_target', 'a targeted attack needs target: the id of a corpus image', ['target']));
    }
    if (fields.epsilon !== undefined && fields.epsilon > MAX_ATTACK_EPSILON[fields.norm]) {
      ctx.addIssue(customIssue('invalid_epsilon', `epsilon must be a number ${EPSILON_RANGE}`, ['epsilon']));
    }
  });

export interface AttackStart {
  /** The query named by `id` (a corpus image) or `upload` (an earlier upload's sha256); undefined when neither. */
  readonly query: QuerySource | undefined;
  readonly options: Omit<ComparisonParams, 'query'>;
}

/** A start request's fields, validated, with the form's defaults. */
export function parseAttackStart(source: Raw): AttackStart {
  const fields = readRequest(attackStartFields, source);
  const target = fields.target ?? null;
  const goal = fields.goal ?? (target === null ? 'untargeted' : 'targeted');
  const query: QuerySource | undefined =
    fields.id !== undefined ? { kind: 'image', id: fields.id } : fields.upload !== undefined ? { kind: 'upload', sha256: fields.upload } : undefined;
  return {
    query,
    options: {
      goal,
      target: goal === 'targeted' ? target : null,
      norm: fields.norm,
      epsilon: fields.epsilon ?? DEFAULT_ATTACK_EPSILON[fields.norm],
      steps: fields.steps,
      k: fields.k,
    },
  };
}
