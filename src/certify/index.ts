/** Certificates of the search engine's answers: pure functions, derived in docs/certificates.md. */
export { certifyAnswer, type AnswerCertificate, type AnswerCertificateInput, type LimitingPair, type ScoredItem } from './answerCertificate.js';
export { checkCopies, type CopyCheck, type CopyCheckInput } from './copyCheck.js';
export { distanceBounds, type BoundName, type DistanceBounds, type Interval } from './distanceBounds.js';
export { pairRadius, twoAfcRadius, unscoredRadius } from './orderRadius.js';
export { certificateInImageSpace, explainRadius, imageToModelEpsilon, modelToImageRadius, type RadiusExplained } from './spaces.js';
export { cosineDistance, type Vector } from './sphere.js';
