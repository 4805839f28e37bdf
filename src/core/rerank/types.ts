/**
 * Shapes shared by the business-rule reranker: a candidate list (struct of typed arrays, one entry
 * per candidate item), the per-request context the rules read, and the record each rule leaves of
 * what it changed (for reports, `--ablation`, and the `reasons` of a serving response).
 */

/** One user's candidates: items[j] with score scores[j], j < length. Rules never mutate a list. */
export interface CandidateList {
  readonly items: Int32Array;
  readonly scores: Float64Array;
  /** Bitmask of the ensemble members that proposed each candidate (bit m = member m); optional. */
  readonly proposers?: Uint32Array;
}

/** What the rules may read about the catalogue and the request; every field is optional data. */
export interface RerankContext {
  /** Number of slots the caller will show. */
  k: number;
  /** Sorted item indexes the user bought (the interaction types `excludeBought.types` names). */
  bought?: Int32Array | null;
  /** Item indexes excluded by explicit lists, by list name (e.g. outOfStock, blocked). */
  excludeLists?: ReadonlyMap<string, ReadonlySet<number>> | null;
  /** Popularity per item index, normalised to [0, 1] (count / max count). */
  popularity?: Float32Array | null;
  /** Product creation time per item index, epoch seconds (NaN = unknown). */
  createdAt?: Float64Array | null;
  /** "Now" for the new-item window, epoch seconds. */
  now?: number;
  /** Category code per item index (−1 = unknown). */
  categories?: Int32Array | null;
  /** The blend's natural score unit for additive boosts (1 for minmax / z-score blends; default 1). */
  scoreScale?: number;
}

export type RuleName = 'excludeBought' | 'excludeLists' | 'popularityBoost' | 'newItemBoost' | 'tieBreak' | 'diversity';

/** The record of one rule applied to one list. */
export interface RuleEffect {
  rule: RuleName;
  /** Items the rule removed (with the list name for excludeLists). */
  removed: Array<{ item: number; reason: string }>;
  /** Items whose score changed: before → after. */
  rescored: Array<{ item: number; before: number; after: number }>;
  /** Items whose position changed (0-based, within the list the rule received and returned). */
  moved: Array<{ item: number; from: number; to: number }>;
  /** Anything else worth saying (e.g. "category cap relaxed: 3 slots filled over the cap"). */
  note?: string;
}

export interface RuleResult {
  list: CandidateList;
  effect: RuleEffect | null;
}

/** A rule bound to its configuration: pure, list in → list out (+ what changed when `record`). */
export interface Rule {
  readonly name: RuleName;
  apply(list: CandidateList, ctx: RerankContext, record: boolean): RuleResult;
}
