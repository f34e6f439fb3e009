import { z } from 'zod';

/** The JSON of an attack comparison (status, stream events and result alike); see responseSchemas.ts. */

const integer = () => z.int();
const dateTime = () => z.string().meta({ format: 'date-time' });

const RankedImage = z.strictObject({
  rank: integer(),
  id: integer(),
  distance: z.number(),
  urls: z.strictObject({ file: z.string(), thumbnail: z.string(), record: z.string(), neighbours: z.string(), page: z.string(), search: z.string() }),
});

const CertificateCheck = z.strictObject({
  radius: z.number().nullable().describe('certified ℓ₂ radius computed before the attack (null: unbounded)'),
  covered: z.boolean().describe('‖δ‖₂ < radius: the certificate covered this attack'),
  changed: z.boolean(),
  verdict: z.enum(['held', 'broken', 'not-covered']).describe('broken (covered yet changed) would be a bug'),
});

const QuerySource = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('image'), id: integer() }),
  z.strictObject({ kind: z.literal('upload'), sha256: z.string() }),
]);

const Side = z.strictObject({
  model: z.enum(['lipsim', 'baseline']),
  version: z.string(),
  robust: z.boolean().describe('1-Lipschitz: its bounds and certificate apply'),
  state: z.enum(['waiting', 'queued', 'running', 'done', 'failed', 'cancelled']),
  progress: z.strictObject({ step: integer(), steps: integer(), loss: z.number(), bestLoss: z.number() }).nullable(),
  error: z.string().nullable(),
  before: z
    .strictObject({
      compared: integer(),
      results: z.array(RankedImage),
      certificate: z
        .strictObject({ scope: z.enum(['exact', 'index']), top1: z.number().nullable(), topkSet: z.number().nullable() })
        .nullable()
        .describe('LipSim: certified ℓ₂ radii of the clean answer (model input)'),
    })
    .nullable(),
  outcome: z
    .strictObject({
      norms: z.strictObject({ l2: z.number(), linf: z.number() }).describe('‖δ‖₂ and ‖δ‖∞ of the adversarial image'),
      withinBudget: z.boolean(),
      stepsRun: integer(),
      stopReason: z.enum(['completed', 'goal-reached', 'no-improvement']),
      goalReached: z.boolean().nullable(),
      distance: z.number().describe('d(x, x+δ)'),
      bounds: z
        .strictObject({ l2: z.number(), sphere: z.number(), prop41: z.number() })
        .describe('what a 1-Lipschitz model guarantees for d(x, x+δ) at ‖δ‖₂: sphere ‖δ‖₂²/2, Prop 4.1 ‖δ‖₂'),
      withinBound: z.boolean(),
      after: z.array(RankedImage),
      top1Changed: z.boolean(),
      topkSetChanged: z.boolean(),
      certificate: z.strictObject({ top1: CertificateCheck, topkSet: CertificateCheck }).nullable(),
      neighbourIntervals: z.strictObject({ checked: integer(), outside: z.array(integer()) }),
      perturbationGain: z.number(),
      urls: z.strictObject({ adversarial: z.string(), download: z.string(), perturbation: z.string(), search: z.string().nullable() }),
    })
    .nullable(),
});

export const AttackComparison = z.strictObject({
  id: z.string().meta({ format: 'uuid' }),
  state: z.enum(['preparing', 'running', 'done', 'failed', 'cancelled']),
  finished: z.boolean(),
  phase: z.string().describe('what the comparison is doing, in words'),
  error: z.string().nullable(),
  createdAt: dateTime(),
  finishedAt: dateTime().nullable(),
  params: z.strictObject({
    query: QuerySource,
    goal: z.enum(['untargeted', 'targeted']),
    target: integer().nullable(),
    norm: z.enum(['l2', 'linf']),
    epsilon: z.number(),
    steps: integer(),
    k: integer(),
  }),
  clean: z.strictObject({ image: z.string(), search: z.string() }).nullable(),
  models: z.array(Side).describe('LipSim first, then the baseline'),
  urls: z.strictObject({ self: z.string(), events: z.string(), cancel: z.string(), page: z.string() }),
});

export type AttackComparison = z.output<typeof AttackComparison>;
