/**
 * The study at a scale small enough to run every experiment in seconds, for the study tests:
 * 200 training and 60 validation images of a 300-image pool (a 5 × 60-image CIFAR-10 fixture);
 * the extensions' recipe on [12, 8] for 20 updates, the reference run for 10.
 */
import type { StudyScale } from "../lib/study_plan.ts";

export const tinyScale: StudyScale = {
  name: "tiny",
  training: { start: 0, end: 200 },
  validation: { start: 200, end: 260 },
  oneFile: { training: { start: 0, end: 60 }, validation: { start: 60, end: 120 } },
  batchSize: 20,
  stepSize: 5,
  cycles: 1,
  finalCycles: 2,
  recordsPerEpoch: 2,
  trainingMetricsSize: 100,
  coarseTrials: 3,
  fineTrials: 2,
  learningRates: [0.01, 0.5],
  learningRateUpdates: 10,
  twoLayer: { stepSize: 5, cycles: 1 },
  overfit: { samples: 20, batchSize: 10, epochs: 3, learningRate: 0.05, validationSize: 20 },
  gradCheck: { features: 3, samples: 4 },
  extensions: {
    hiddenSizes: [12, 8],
    batchSize: 20,
    epochs: 2,
    warmupEpochs: 1,
    preciseBatches: 4,
  },
};
