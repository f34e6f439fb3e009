import type { AttackNorm } from '../attack/index.js';
import { explainRadius } from '../certify/index.js';
import type { BaselineStatus } from '../compare/comparisonService.js';
import { countOf, isAre } from '../util/words.js';
import type { ComparisonDto } from './attackPresenters.js';
import { DEFAULT_ATTACK_K, DEFAULT_ATTACK_STEPS, EPSILON_PRESETS, MAX_ATTACK_K, MAX_ATTACK_PAGE_STEPS } from './attackParams.js';
import { changeSmallerThan, isCloseCall } from './guaranteeWords.js';
import { bar } from './pageModels.js';
import { MODEL_INPUT_VALUES } from './presenters.js';
import { formatNumber as num } from './views.js';

/**
 * View models of the attack pages, worded from the same DTO the JSON API returns: the page never claims more
 * than the API. A broken certificate or bound on LipSim is worded as the bug it would be.
 */

type Side = ComparisonDto['models'][number];
type Ranked = NonNullable<Side['before']>['results'][number];
type Tone = 'ok' | 'warn' | 'bad' | 'info';

const NAMES: Record<string, { title: string; subtitle: string }> = {
  lipsim: { title: 'LipSim', subtitle: '1-Lipschitz embedding, certified' },
  baseline: { title: 'Baseline', subtitle: 'ordinary network, no Lipschitz bound' },
};

/** "0.0157 (= 4/255)" for ℓ∞ budgets, plain numbers for ℓ₂. */
export function describeAttackEpsilon(epsilon: number, norm: AttackNorm): string {
  return norm === 'linf' ? `${num(epsilon)} (= ${num(epsilon * 255)}/255)` : num(epsilon);
}

const radiusText = (r: number | null) => (r === null ? '∞' : num(r));

/** LipSim's top-1 guarantee before the attack, in the results page's plain words (guaranteeWords.ts). */
function top1Sentence(r: number | null): string {
  if (r === null) return 'no change of any size can change the first result.';
  if (r === 0) return 'the first result is not certified: a rival is exactly as close.';
  const reading = explainRadius(r, MODEL_INPUT_VALUES);
  if (isCloseCall(reading)) return 'a close call: the first result is almost tied with a rival, so even one grey level on a single pixel may change it.';
  return `no change smaller than ${changeSmallerThan(reading)}, can change the first result.`;
}

// ---- the form

export interface AttackFormValues {
  readonly id?: string;
  readonly upload?: string;
  readonly goal: 'untargeted' | 'targeted';
  readonly target?: string;
  readonly norm: AttackNorm;
  readonly epsilon: string;
  readonly steps: number;
  readonly k: number;
}

export const DEFAULT_FORM: AttackFormValues = { goal: 'untargeted', norm: 'l2', epsilon: '1', steps: DEFAULT_ATTACK_STEPS, k: DEFAULT_ATTACK_K };

/** What the baseline model's copy of the collection means for a comparison started now. */
function baselineNote(status: BaselineStatus): string {
  switch (status.state) {
    case 'embedding':
      return `The baseline model is still embedding the collection in the background (${status.embedded} of ${countOf(status.total, 'image')}, once per server run): a comparison started now begins when it is done.`;
    case 'pending':
      return 'The first comparison also embeds the whole collection with the baseline model (once per server run), so it takes longer than the next ones.';
    case 'ready':
      return '';
  }
}

export function attackFormView(values: AttackFormValues, maxUploadMiB: number, baseline: BaselineStatus, error?: string) {
  const presets = (norm: AttackNorm) => EPSILON_PRESETS[norm].map((p) => p.text).join(',');
  return {
    values,
    targeted: values.goal === 'targeted',
    linf: values.norm === 'linf',
    query: values.upload
      ? { imageUrl: `/api/uploads/${values.upload}/file`, caption: 'Your upload', alt: 'The query: your uploaded image' }
      : values.id
        ? { imageUrl: `/api/images/${values.id}/thumbnail`, caption: `Corpus image #${values.id}`, alt: `The query: corpus image #${values.id}` }
        : null,
    target: values.target
      ? { imageUrl: `/api/images/${values.target}/thumbnail`, caption: `Target: corpus image #${values.target}`, alt: `The target: corpus image #${values.target}` }
      : null,
    presetsL2: presets('l2'),
    presetsLinf: presets('linf'),
    presetHint: `LipSim paper: ℓ₂ ${EPSILON_PRESETS.l2.map((p) => p.text).join(', ')}; ℓ∞ e.g. ${EPSILON_PRESETS.linf.map((p) => p.text).join(', ')}`,
    maxSteps: MAX_ATTACK_PAGE_STEPS,
    maxK: MAX_ATTACK_K,
    maxUploadMiB,
    baselineNote: baselineNote(baseline),
    error,
  };
}

// ---- a comparison

/** Changes when the server-rendered part of the job page would change (the script then reloads it). */
export function comparisonStage(dto: ComparisonDto): string {
  return [dto.state, ...dto.models.map((m) => `${m.state}:${m.before ? 1 : 0}${m.outcome ? 1 : 0}`)].join('|');
}

function rankedView(items: readonly Ranked[], others: readonly Ranked[] | null, highlight: number | null) {
  const otherIds = new Set(others?.map((o) => o.id) ?? []);
  return items.map((r) => ({
    rank: r.rank,
    id: r.id,
    thumb: r.urls.thumbnail,
    page: r.urls.page,
    distanceText: num(r.distance),
    isNew: others !== null && !otherIds.has(r.id),
    isTarget: r.id === highlight,
  }));
}

interface Verdict {
  readonly tone: Tone;
  readonly title: string;
  readonly text: string;
  /** A broken guarantee: announced to screen readers at once and drawn loudly. */
  readonly alert: boolean;
}

function topChange(before: readonly Ranked[], after: readonly Ranked[]): string {
  const a = before[0]?.id;
  const b = after[0]?.id;
  return a === b ? `the top-1 stayed image #${a}` : `the top-1 changed from image #${a} to image #${b}`;
}

function certificateVerdicts(side: Side): Verdict[] {
  const { before, outcome } = side;
  if (!before || !outcome) return [];
  const l2 = num(outcome.norms.l2);
  if (!outcome.certificate) {
    return [{ tone: 'info', title: 'No certificate', text: `This model promises nothing: ${topChange(before.results, outcome.after)}.`, alert: false }];
  }
  const { top1, topkSet } = outcome.certificate;
  const k = before.results.length;
  const verdict = (check: typeof top1, what: string, changedText: string, keptText: string): Verdict => {
    const r = radiusText(check.radius);
    if (check.verdict === 'broken') {
      return {
        tone: 'bad',
        title: `CERTIFICATE BROKEN (${what}): this is a bug`,
        text: `‖δ‖₂ = ${l2} is below the certified radius r = ${r}, yet ${changedText}. The certificate said this could not happen; please report this page's link.`,
        alert: true,
      };
    }
    if (check.verdict === 'held') {
      return { tone: 'ok', title: `Certificate held (${what})`, text: `‖δ‖₂ = ${l2} < r = ${r}: certified not to change, and ${keptText}.`, alert: false };
    }
    return {
      tone: 'info',
      title: `Beyond the certificate (${what})`,
      text: `‖δ‖₂ = ${l2} ≥ r = ${r}: the attack was larger than the certified radius, so nothing was promised; ${check.changed ? changedText : keptText}.`,
      alert: false,
    };
  };
  return [
    verdict(top1, 'top-1', topChange(before.results, outcome.after), topChange(before.results, outcome.after)),
    k === 1
      ? verdict(topkSet, 'top-1 set', 'the first result changed', 'the first result stayed the same')
      : verdict(topkSet, `top-${k} set`, `the set of the first ${k} results changed`, `the first ${k} results stayed the same set`),
  ];
}

function boundVerdicts(side: Side): Verdict[] {
  const { outcome } = side;
  if (!outcome) return [];
  const { distance, bounds, withinBound, neighbourIntervals } = outcome;
  const d = num(distance);
  const sphere = num(bounds.sphere);
  const outside = neighbourIntervals.outside.length;
  const checked = neighbourIntervals.checked;
  if (side.robust) {
    return [
      withinBound
        ? { tone: 'ok', title: 'Distance bound held', text: `d(x, x+δ) = ${d} ≤ ‖δ‖₂²/2 = ${sphere} (sphere bound; Prop 4.1 allows ${num(bounds.prop41)}).`, alert: false }
        : { tone: 'bad', title: 'DISTANCE BOUND BROKEN: this is a bug', text: `d(x, x+δ) = ${d} exceeds ‖δ‖₂²/2 = ${sphere}, which a 1-Lipschitz model cannot do.`, alert: true },
      outside === 0
        ? {
            tone: 'ok',
            title: 'Intervals held',
            text:
              checked === 1
                ? 'The distance of the clean answer stayed in its certified interval for ‖δ‖₂.'
                : `All ${checked} distances of the clean answer stayed in their certified intervals for ‖δ‖₂.`,
            alert: false,
          }
        : { tone: 'bad', title: 'INTERVALS BROKEN: this is a bug', text: `${outside} of ${checked} distances left their certified intervals.`, alert: true },
    ];
  }
  return [
    withinBound
      ? { tone: 'info', title: 'No distance guarantee', text: `d(x, x+δ) = ${d}; a 1-Lipschitz model would be held to ≤ ${sphere} at this ‖δ‖₂, but nothing holds this model to it.`, alert: false }
      : {
          tone: 'warn',
          title: 'No distance guarantee',
          text: `d(x, x+δ) = ${d}: ${num(distance / Math.max(bounds.sphere, 1e-12))}× the ${sphere} any 1-Lipschitz model is held to at this ‖δ‖₂.`,
          alert: false,
        },
    {
      tone: outside ? 'warn' : 'info',
      title: 'Distances of the clean answer',
      text: `${outside} of ${checked} left the intervals a 1-Lipschitz model would guarantee for ‖δ‖₂.`,
      alert: false,
    },
  ];
}

/** The side's result in one line, and in a few words for the status line. */
function headline(side: Side, target: number | null): { tone: Tone; text: string; short: string } | null {
  const { before, outcome } = side;
  if (!before || !outcome) return null;
  const first = outcome.after[0]?.id;
  const was = before.results[0]?.id;
  if (target !== null) {
    if (first === target) return { tone: side.robust ? 'warn' : 'bad', text: `Hijacked: the target #${target} is now the top-1`, short: `hijacked (top-1 #${target})` };
    const rank = outcome.after.find((r) => r.id === target)?.rank;
    return {
      tone: 'ok',
      text: `Target #${target} not reached (${rank ? `now rank ${rank}` : `not in the top ${outcome.after.length}`})`,
      short: `target not reached (top-1 #${first})`,
    };
  }
  if (!outcome.top1Changed) {
    const k = before.results.length;
    const fresh = outcome.after.filter((r) => !before.results.some((b) => b.id === r.id)).length;
    if (fresh === 0) return { tone: 'ok', text: `Stayed put: the top-1 is still #${first}, the top ${k} the same images`, short: `stayed put (top-1 #${first})` };
    return {
      tone: 'warn',
      text: `The top-1 is still #${first}, but ${fresh} of the top ${k} ${isAre(fresh)} new`,
      short: `top-1 kept (#${first}), ${fresh} of the top ${k} new`,
    };
  }
  return { tone: side.robust ? 'warn' : 'bad', text: `Fooled: the top-1 changed from #${was} to #${first}`, short: `fooled (top-1 #${was} → #${first})` };
}

function sideView(side: Side, dto: ComparisonDto) {
  const names = NAMES[side.model] ?? { title: side.model, subtitle: '' };
  const { before, outcome, progress } = side;
  const { params } = dto;
  const certificate = before?.certificate;
  const self = outcome && { lower: 0, upper: outcome.bounds.sphere, distance: outcome.distance };
  const scale = self ? Math.max(self.upper, self.distance) * 1.15 || 1 : 1;
  return {
    model: side.model,
    title: names.title,
    subtitle: names.subtitle,
    robust: side.robust,
    stateText: { waiting: 'waiting', queued: 'queued', running: 'attacking', done: 'done', failed: 'failed', cancelled: 'cancelled' }[side.state],
    progressValue: progress ? progress.step : 0,
    progressMax: progress ? progress.steps : params.steps,
    progressText: progress ? `step ${progress.step} of ${progress.steps}` : side.state === 'done' ? '' : 'not started',
    error: side.error,
    certificateText: !before
      ? ''
      : !certificate
        ? 'No certificate: this model makes no promise about how far its answer can be pushed.'
        : `Before the attack: ${top1Sentence(certificate.top1)} In figures: the top-1 cannot change for any ‖δ‖₂ < ${radiusText(certificate.top1)}, the top-${before.results.length} set for any ‖δ‖₂ < ${radiusText(certificate.topkSet)} (scope ${certificate.scope}, model-input space).`,
    radius: certificate ? radiusText(certificate.top1) : null,
    adversarialUrl: outcome?.urls.adversarial,
    perturbationUrl: outcome?.urls.perturbation,
    gainText: outcome ? `δ × ${num(outcome.perturbationGain)} (grey: unchanged)` : '',
    downloadUrl: outcome?.urls.download,
    searchUrl: outcome?.urls.search,
    measures: outcome
      ? [
          { label: '‖δ‖₂', value: num(outcome.norms.l2), note: params.norm === 'l2' ? `budget ${num(params.epsilon)}` : '' },
          { label: '‖δ‖∞', value: `${num(outcome.norms.linf)} (${num(outcome.norms.linf * 255)}/255)`, note: params.norm === 'linf' ? `budget ${describeAttackEpsilon(params.epsilon, 'linf')}` : '' },
          { label: 'd(x, x+δ)', value: num(outcome.distance), note: '' },
          { label: 'sphere bound ‖δ‖₂²/2', value: num(outcome.bounds.sphere), note: side.robust ? 'guaranteed' : 'not guaranteed here' },
          { label: 'Prop 4.1 bound ‖δ‖₂', value: num(outcome.bounds.prop41), note: side.robust ? 'guaranteed' : 'not guaranteed here' },
          { label: 'steps run', value: String(outcome.stepsRun), note: outcome.stopReason.replace('-', ' ') },
        ]
      : [],
    bar: self && bar(self.distance, self.lower, self.upper, scale),
    barLabel: self ? `d(x, x+δ) = ${num(self.distance)}; a 1-Lipschitz model keeps it below ${num(self.upper)}` : '',
    barScale: num(scale),
    headline: headline(side, params.target),
    verdicts: [...certificateVerdicts(side), ...boundVerdicts(side)],
    afterEmpty: { cancelled: 'cancelled before it finished', failed: 'the attack failed' }[side.state as string] ?? 'once the attack is done',
    before: before ? rankedView(before.results, null, params.target) : [],
    after: outcome && before ? rankedView(outcome.after, before.results, params.target) : [],
    compared: before ? `${countOf(before.compared, 'image')} compared` : '',
  };
}

function describeQuery(dto: ComparisonDto): string {
  const q = dto.params.query;
  return q.kind === 'image' ? `corpus image #${q.id}` : 'your upload';
}

/** The same settings as a prefilled form link. */
function againUrl(dto: ComparisonDto): string {
  const { query, goal, target, norm, epsilon, steps, k } = dto.params;
  const params = new URLSearchParams({
    ...(query.kind === 'image' ? { id: String(query.id) } : { upload: query.sha256 }),
    goal,
    ...(target !== null ? { target: String(target) } : {}),
    norm,
    epsilon: String(epsilon),
    steps: String(steps),
    k: String(k),
  });
  return `/attack?${params}`;
}

export function attackJobView(dto: ComparisonDto) {
  const { params } = dto;
  const sides = dto.models.map((side) => sideView(side, dto));
  const goal = params.goal === 'targeted' ? `Targeted (towards image #${params.target})` : 'Untargeted';
  const norm = params.norm === 'l2' ? 'ℓ₂' : 'ℓ∞';
  return {
    title: `Attack on ${describeQuery(dto)}`,
    heading: `Attack on ${describeQuery(dto)}`,
    settingsText: `${goal} ${norm} attack · ε = ${describeAttackEpsilon(params.epsilon, params.norm)} · ${countOf(params.steps, 'step')} · top ${params.k}`,
    stage: comparisonStage(dto),
    active: !dto.finished,
    state: dto.state,
    phase: dto.phase,
    summary: dto.state === 'done' ? sides.map((side) => `${side.title} ${side.headline?.short}`).join(' · ') : '',
    error: dto.error,
    tone: { done: 'ok', failed: 'bad', cancelled: 'warn', preparing: 'info', running: 'info' }[dto.state],
    urls: dto.urls,
    cancelAction: `/attack/jobs/${dto.id}/cancel`,
    againUrl: againUrl(dto),
    clean: dto.clean,
    sides,
  };
}
