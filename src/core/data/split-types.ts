/**
 * What a split is. The unit of a split is the (user, item) pair of the interaction matrix (all
 * events of a pair aggregated), so a pair is never both in train and test.
 * All matrices of one split share the same id maps (same user/item indexes).
 */
import type { InteractionMatrix } from './matrix.js';

export type SplitConfig =
  /** Per user with n ≥ minInteractions pairs: max(1, floor(testFraction·n)) random pairs go to test. */
  | { method: 'random'; testFraction: number; seed: number; minInteractions: number }
  /** Global temporal cut: pairs last seen at or after `cutTime` (seconds) go to test; without it, the (1−testFraction) quantile of lastSeen. */
  | { method: 'temporal'; cutTime?: number; testFraction?: number }
  /** Per user with more than k pairs: the k most recent pairs go to test. */
  | { method: 'leave-last-out'; k: number }
  /**
   * Strong generalization (Liang et al. 2018): a disjoint set of held-out users; the model is
   * trained on the other users only. Each held-out user's pairs are split into fold-in
   * (shown to the model at prediction time) and test.
   */
  | { method: 'strong'; heldOutUsers: number; foldInFraction: number; seed: number };

export interface Split {
  readonly config: SplitConfig;
  readonly train: InteractionMatrix;
  readonly test: InteractionMatrix;
  /** Strong generalization only: held-out users' fold-in pairs (empty rows elsewhere). */
  readonly foldIn: InteractionMatrix | null;
  /** Hash of the split's contents: train and eval must see the same one. */
  readonly fingerprint: string;
  /** Fingerprint of the store data the split was cut from. */
  readonly datasetFingerprint: string;
  /** Temporal splits: the cut actually used, seconds (resolved from testFraction when cutTime was absent). */
  readonly cutTime?: number;
}
