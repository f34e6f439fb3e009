import type { CertificateCheck } from '../compare/verdicts.js';
import { type ComparisonImageName, type ComparisonStatus, isFinishedComparison, type RankedImage, type SideStatus } from '../compare/types.js';
import type { AttackComparison } from './attackResponseSchemas.js';
import { imageUrls, uploadUrls } from './presenters.js';

/** JSON has no Infinity: an unbounded radius (no rival can ever overtake) is written as null. */
const finiteOrNull = (value: number) => (Number.isFinite(value) ? value : null);

export function comparisonUrls(id: string) {
  const api = `/api/attacks/${id}`;
  return {
    self: api,
    events: `${api}/events`,
    cancel: `${api}/cancel`,
    page: `/attack/jobs/${id}`,
    image: (name: ComparisonImageName) => `${api}/images/${name}.png`,
  };
}

function rankedDto(item: RankedImage) {
  return { rank: item.rank, id: item.id, distance: item.distance, urls: imageUrls(item.image) };
}

function certificateCheckDto(check: CertificateCheck) {
  return { radius: finiteOrNull(check.radius), covered: check.covered, changed: check.changed, verdict: check.verdict };
}

function sideDto(id: string, side: SideStatus, epsilon: number, norm: 'l2' | 'linf') {
  const urls = comparisonUrls(id);
  const { before, outcome } = side;
  return {
    model: side.model,
    version: side.version,
    robust: side.robust,
    state: side.state,
    progress: side.progress,
    error: side.error,
    before: before && {
      compared: before.compared,
      results: before.results.map(rankedDto),
      certificate: before.radii && { scope: before.radii.scope, top1: finiteOrNull(before.radii.top1), topkSet: finiteOrNull(before.radii.topkSet) },
    },
    outcome: outcome && {
      norms: outcome.norms,
      withinBudget: (norm === 'l2' ? outcome.norms.l2 : outcome.norms.linf) <= epsilon,
      stepsRun: outcome.stepsRun,
      stopReason: outcome.stopReason,
      goalReached: outcome.goalReached,
      distance: outcome.self.distance,
      bounds: { l2: outcome.self.l2, sphere: outcome.self.sphere, prop41: outcome.self.prop41 },
      withinBound: outcome.self.withinBound,
      after: outcome.after.map(rankedDto),
      top1Changed: outcome.top1Changed,
      topkSetChanged: outcome.topkSetChanged,
      certificate: outcome.certificate && { top1: certificateCheckDto(outcome.certificate.top1), topkSet: certificateCheckDto(outcome.certificate.topkSet) },
      neighbourIntervals: { checked: outcome.neighbours.checked, outside: [...outcome.neighbours.outside] },
      perturbationGain: outcome.perturbationGain,
      urls: {
        adversarial: urls.image(`${side.model}-adversarial`),
        download: `${urls.image(`${side.model}-adversarial`)}?download=1`,
        perturbation: urls.image(`${side.model}-perturbation`),
        search: outcome.searchSha256 ? uploadUrls(outcome.searchSha256).search : null,
      },
    },
  };
}

/** The JSON of a comparison (status, stream events and result alike). */
export function comparisonDto(status: ComparisonStatus): AttackComparison {
  const { params } = status;
  const urls = comparisonUrls(status.id);
  return {
    id: status.id,
    state: status.state,
    finished: isFinishedComparison(status.state),
    phase: status.phase,
    error: status.error,
    createdAt: new Date(status.createdAt).toISOString(),
    finishedAt: status.finishedAt === null ? null : new Date(status.finishedAt).toISOString(),
    params: {
      query: params.query,
      goal: params.goal,
      target: params.target,
      norm: params.norm,
      epsilon: params.epsilon,
      steps: params.steps,
      k: params.k,
    },
    clean: status.cleanSha256 ? { image: urls.image('clean'), search: uploadUrls(status.cleanSha256).search } : null,
    models: status.sides.map((side) => sideDto(status.id, side, params.epsilon, params.norm)),
    urls: { self: urls.self, events: urls.events, cancel: urls.cancel, page: urls.page },
  };
}

export type ComparisonDto = AttackComparison;
