/**
 * TF-IDF text vectors (the weighting of scikit-learn's TfidfVectorizer with sublinear_tf=True,
 * smooth_idf=True, norm='l2', so numbers can be checked against it):
 *
 *   tf(t, d)  = 1 + ln(count(t, d))            (sublinear; raw count when sublinearTf = false)
 *   idf(t)    = ln((1 + n) / (1 + df(t))) + 1  (smoothed: as if one extra document held every term;
 *                                               ln(n / df(t)) + 1 when smoothIdf = false)
 *   w(t, d)   = tf(t, d) · idf(t),  then each document row is scaled to unit L2 norm.
 *
 * n = documents the vectorizer was fitted on, df(t) = how many of them contain t. The vocabulary
 * keeps terms with minDf ≤ df ≤ maxDfRatio·n, at most maxFeatures of them (highest df first, ties
 * by term), and numbers them in code-unit order of the term string (deterministic, like sklearn's
 * sorted vocabulary). Documents transformed later (new products) use the fitted vocabulary and idf;
 * unseen terms are ignored. The default minDf is 2 (sklearn's is 1): a term of a single fitted
 * document cannot make two of them similar, it only shrinks that document's other weights, which a
 * product added later (its unseen words dropped) would not suffer; so fitted and added products are
 * scored alike.
 *
 * Fitting runs in two passes over a `TermCorpus` (each document's tokens as provisional term ids in
 * one flat Int32Array), so the texts are tokenised once and no per-document objects are kept.
 */
import { RecsysError } from '../errors.js';
import type { Progress } from '../models/recommender.js';
import { SparseBuilder, type SparseMatrix } from './sparse.js';
import type { Tokenizer } from './tokenize.js';

export interface TfidfOptions {
  /** Smallest document frequency of a kept term (absolute count). */
  minDf: number;
  /** Terms in more than this share of documents are dropped (1 keeps all). */
  maxDfRatio: number;
  /** Most terms kept (by document frequency). */
  maxFeatures: number;
  sublinearTf: boolean;
  smoothIdf: boolean;
}

export const DEFAULT_TFIDF_OPTIONS: Readonly<TfidfOptions> = Object.freeze({
  minDf: 2,
  maxDfRatio: 1,
  maxFeatures: 262_144,
  sublinearTf: true,
  smoothIdf: true,
});

/** Tokenised documents: doc d's provisional term ids are termIds[docPtr[d] .. docPtr[d+1]). */
export interface TermCorpus {
  readonly nDocs: number;
  readonly terms: readonly string[];
  readonly docPtr: Int32Array;
  readonly termIds: Int32Array;
}

/** Tokenises every text once (null/empty texts give empty documents). */
export function tokenizeCorpus(nDocs: number, textOf: (doc: number) => string | null, tokenizer: Tokenizer, progress?: Progress): TermCorpus {
  const terms: string[] = [];
  const index = new Map<string, number>();
  const docPtr = new Int32Array(nDocs + 1);
  let ids = new Int32Array(Math.max(1024, nDocs * 16));
  let n = 0;
  const tokens: string[] = [];
  const tickEvery = Math.max(1, Math.floor(nDocs / 100));
  progress?.start('features: tokenize', nDocs);
  for (let d = 0; d < nDocs; d++) {
    tokens.length = 0;
    const text = textOf(d);
    if (text) tokenizer.tokenize(text, tokens);
    if (n + tokens.length > ids.length) {
      const grown = new Int32Array(Math.max(ids.length * 2, n + tokens.length));
      grown.set(ids.subarray(0, n));
      ids = grown;
    }
    for (const t of tokens) {
      let id = index.get(t);
      if (id === undefined) {
        id = terms.length;
        terms.push(t);
        index.set(t, id);
      }
      ids[n++] = id;
    }
    docPtr[d + 1] = n;
    if ((d + 1) % tickEvery === 0) progress?.tick(tickEvery);
  }
  progress?.stop();
  return { nDocs, terms, docPtr, termIds: ids.subarray(0, n) };
}

function checkOptions(o: TfidfOptions): void {
  const bad = (what: string): never => {
    throw new RecsysError('RECSYS_ERR_MODEL_PARAM', `tf-idf: ${what}`, { param: 'tfidf' });
  };
  if (!Number.isInteger(o.minDf) || o.minDf < 1) bad(`minDf must be an integer ≥ 1 (got ${o.minDf})`);
  if (!(o.maxDfRatio > 0 && o.maxDfRatio <= 1)) bad(`maxDfRatio must be in (0, 1] (got ${o.maxDfRatio})`);
  if (!Number.isInteger(o.maxFeatures) || o.maxFeatures < 1) bad(`maxFeatures must be an integer ≥ 1 (got ${o.maxFeatures})`);
}

export class TfidfVectorizer {
  readonly options: TfidfOptions;
  /** Term of each column. */
  readonly vocabulary: readonly string[];
  /** idf per column. */
  readonly idf: Float32Array;
  /** Documents the idf was computed over. */
  readonly nDocs: number;
  private readonly index: Map<string, number>;

  constructor(vocabulary: readonly string[], idf: Float32Array, nDocs: number, options: TfidfOptions) {
    if (vocabulary.length !== idf.length) {
      throw new RecsysError('RECSYS_ERR_ARTIFACT', `tf-idf state is inconsistent: ${vocabulary.length} terms but ${idf.length} idf values`);
    }
    this.vocabulary = vocabulary;
    this.idf = idf;
    this.nDocs = nDocs;
    this.options = options;
    this.index = new Map();
    for (let i = 0; i < vocabulary.length; i++) this.index.set(vocabulary[i], i);
  }

  get size(): number {
    return this.vocabulary.length;
  }

  columnOf(term: string): number {
    return this.index.get(term) ?? -1;
  }

  /** Learns the vocabulary and idf from a corpus. */
  static fit(corpus: TermCorpus, opts: Partial<TfidfOptions> = {}): TfidfVectorizer {
    const o: TfidfOptions = { ...DEFAULT_TFIDF_OPTIONS, ...opts };
    checkOptions(o);
    const nTerms = corpus.terms.length;
    const df = new Int32Array(nTerms);
    const lastDoc = new Int32Array(nTerms).fill(-1);
    for (let d = 0; d < corpus.nDocs; d++) {
      for (let p = corpus.docPtr[d]; p < corpus.docPtr[d + 1]; p++) {
        const t = corpus.termIds[p];
        if (lastDoc[t] !== d) {
          lastDoc[t] = d;
          df[t]++;
        }
      }
    }
    const maxDf = Math.floor(o.maxDfRatio * corpus.nDocs);
    let kept: number[] = [];
    for (let t = 0; t < nTerms; t++) if (df[t] >= o.minDf && df[t] <= maxDf) kept.push(t);
    const terms = corpus.terms;
    if (kept.length > o.maxFeatures) {
      kept.sort((a, b) => df[b] - df[a] || (terms[a] < terms[b] ? -1 : terms[a] > terms[b] ? 1 : 0));
      kept = kept.slice(0, o.maxFeatures);
    }
    kept.sort((a, b) => (terms[a] < terms[b] ? -1 : terms[a] > terms[b] ? 1 : 0));
    const vocabulary = kept.map((t) => terms[t]);
    const idf = new Float32Array(kept.length);
    const n = corpus.nDocs;
    for (let c = 0; c < kept.length; c++) {
      const f = df[kept[c]];
      idf[c] = o.smoothIdf ? Math.log((1 + n) / (1 + f)) + 1 : Math.log(n / f) + 1;
    }
    return new TfidfVectorizer(vocabulary, idf, n, o);
  }

  /** TF-IDF rows (unit L2 norm; empty rows stay empty) of a tokenised corpus. */
  transformCorpus(corpus: TermCorpus, progress?: Progress): SparseMatrix {
    const column = new Int32Array(corpus.terms.length);
    for (let t = 0; t < corpus.terms.length; t++) column[t] = this.columnOf(corpus.terms[t]);
    const nCols = this.size;
    const counts = new Float64Array(nCols);
    let touched = new Int32Array(256);
    const builder = new SparseBuilder(nCols, corpus.nDocs, Math.max(16, corpus.termIds.length));
    const sublinear = this.options.sublinearTf;
    const idf = this.idf;
    const tickEvery = Math.max(1, Math.floor(corpus.nDocs / 100));
    progress?.start('features: tf-idf', corpus.nDocs);
    for (let d = 0; d < corpus.nDocs; d++) {
      const start = corpus.docPtr[d];
      const end = corpus.docPtr[d + 1];
      if (touched.length < end - start) touched = new Int32Array((end - start) * 2);
      let nt = 0;
      for (let p = start; p < end; p++) {
        const c = column[corpus.termIds[p]];
        if (c < 0) continue;
        if (counts[c] === 0) touched[nt++] = c;
        counts[c]++;
      }
      const cols = touched.subarray(0, nt).sort();
      let norm = 0;
      for (let j = 0; j < nt; j++) {
        const c = cols[j];
        const tf = sublinear ? 1 + Math.log(counts[c]) : counts[c];
        const w = tf * idf[c];
        counts[c] = w;
        norm += w * w;
      }
      const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
      for (let j = 0; j < nt; j++) {
        const c = cols[j];
        builder.push(c, counts[c] * inv);
        counts[c] = 0;
      }
      builder.endRow();
      if ((d + 1) % tickEvery === 0) progress?.tick(tickEvery);
    }
    progress?.stop();
    return builder.build();
  }

  /** TF-IDF rows of new texts (tokenised with `tokenizer`, which should match the one used to fit). */
  transform(texts: ReadonlyArray<string | null>, tokenizer: Tokenizer): SparseMatrix {
    return this.transformCorpus(tokenizeCorpus(texts.length, (d) => texts[d], tokenizer));
  }
}
