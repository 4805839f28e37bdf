/**
 * Catalogue rows → item feature vectors (sparse CSR, Float32): the content model's item side.
 *
 * x_i = normalize( w_text·t_i ‖ w_category·c_i ‖ w_brand·b_i ‖ w_price·p_i ‖ w_attributes·a_i )
 *
 *  - t_i: TF-IDF of title + description (+ the values of `textAttributes` keys), tfidf.ts;
 *  - c_i, b_i: one-hot category and brand, encode.ts;
 *  - p_i: one-hot quantile price bucket (neighbouring buckets at `priceNeighbourWeight`);
 *  - a_i: JSON attributes (categorical multi-hot, numeric z-scores), encode.ts;
 *
 * every block scaled to unit L2 norm on its own (an empty block stays zero) before weighting, and the
 * concatenation scaled to unit norm. So for two items with all blocks present,
 * cos(x_i, x_j) = Σ_b w_b² cos(block_b(i), block_b(j)) / Σ_b w_b²: the weights say how much each
 * kind of evidence counts. `fit` learns every vocabulary, idf, bucket edge and attribute statistic
 * from the rows it is given; `transform` applies them to new rows (cold products) unchanged.
 */
import { RecsysError } from '../errors.js';
import type { Progress } from '../models/recommender.js';
import { AttributeEncoder, CategoricalEncoder, DEFAULT_ATTRIBUTE_OPTIONS, PriceBuckets, type AttributeOptions, type AttributeSpec } from './encode.js';
import { hstack, normalizeRowsInPlace, SparseBuilder, type SparseMatrix } from './sparse.js';
import { DEFAULT_TFIDF_OPTIONS, TfidfVectorizer, tokenizeCorpus, type TermCorpus, type TfidfOptions } from './tfidf.js';
import type { TextEncoder } from './text-encoder.js';
import { ENGLISH_STOP_WORDS, Tokenizer } from './tokenize.js';

/** One catalogue row; `ProductRow` from the store (load-matrix.ts) is one. */
export interface CatalogItem {
  productId: string;
  title?: string | null;
  description?: string | null;
  category?: string | null;
  brand?: string | null;
  price?: number | null;
  features?: Record<string, unknown> | null;
}

export type BlockName = 'text' | 'category' | 'brand' | 'price' | 'attributes';
export const BLOCK_NAMES: readonly BlockName[] = ['text', 'category', 'brand', 'price', 'attributes'];

export interface FeaturizerConfig {
  /** Weight of each block (0 leaves a block out). */
  weights: Record<BlockName, number>;
  tfidf: TfidfOptions;
  tokenizer: { stem: boolean; stopWords: boolean; minLength: number };
  /** Number of quantile price buckets. */
  priceBuckets: number;
  /** Value given to the two buckets next to an item's own (0 = plain one-hot). */
  priceNeighbourWeight: number;
  /** Fewest products a category / brand needs to get a column. */
  categoryMinCount: number;
  attributes: AttributeOptions;
  /** Attribute keys whose values are appended to the text (e.g. ['genres']). */
  textAttributes: string[];
  /** 'tfidf' (default) or 'encoder': dense sentence embeddings from a TextEncoder (text-encoder.ts). */
  textSource: 'tfidf' | 'encoder';
}

export const DEFAULT_FEATURIZER_CONFIG: Readonly<FeaturizerConfig> = Object.freeze({
  weights: { text: 1, category: 0.5, brand: 0.5, price: 0.25, attributes: 0.5 },
  tfidf: { ...DEFAULT_TFIDF_OPTIONS },
  tokenizer: { stem: true, stopWords: true, minLength: 2 },
  priceBuckets: 10,
  priceNeighbourWeight: 0.5,
  categoryMinCount: 1,
  attributes: { ...DEFAULT_ATTRIBUTE_OPTIONS },
  textAttributes: [],
  textSource: 'tfidf',
});

/** A partial config completed with the defaults (nested objects merged one level deep). */
export function resolveFeaturizerConfig(partial: DeepPartialConfig = {}): FeaturizerConfig {
  const d = DEFAULT_FEATURIZER_CONFIG;
  const c: FeaturizerConfig = {
    weights: { ...d.weights, ...(partial.weights ?? {}) },
    tfidf: { ...d.tfidf, ...(partial.tfidf ?? {}) },
    tokenizer: { ...d.tokenizer, ...(partial.tokenizer ?? {}) },
    priceBuckets: partial.priceBuckets ?? d.priceBuckets,
    priceNeighbourWeight: partial.priceNeighbourWeight ?? d.priceNeighbourWeight,
    categoryMinCount: partial.categoryMinCount ?? d.categoryMinCount,
    attributes: { ...d.attributes, ...(partial.attributes ?? {}) },
    textAttributes: [...(partial.textAttributes ?? d.textAttributes)],
    textSource: partial.textSource ?? d.textSource,
  };
  if (c.textSource !== 'tfidf' && c.textSource !== 'encoder') {
    throw new RecsysError('RECSYS_ERR_MODEL_PARAM', `featurizer: textSource must be 'tfidf' or 'encoder' (got ${String(c.textSource)})`, { param: 'textSource' });
  }
  for (const b of BLOCK_NAMES) {
    const w = c.weights[b];
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
      throw new RecsysError('RECSYS_ERR_MODEL_PARAM', `featurizer: the weight of block '${b}' must be a number ≥ 0 (got ${String(w)})`, { param: `${b}Weight` });
    }
  }
  if (BLOCK_NAMES.every((b) => c.weights[b] === 0)) {
    throw new RecsysError('RECSYS_ERR_MODEL_PARAM', 'featurizer: every block weight is 0, so every item vector would be empty; give at least one block a positive weight', { param: 'textWeight' });
  }
  if (!(c.priceNeighbourWeight >= 0 && c.priceNeighbourWeight <= 1)) {
    throw new RecsysError('RECSYS_ERR_MODEL_PARAM', `featurizer: priceNeighbourWeight must be in [0, 1] (got ${c.priceNeighbourWeight})`, { param: 'priceNeighbourWeight' });
  }
  return c;
}

export interface DeepPartialConfig {
  weights?: Partial<Record<BlockName, number>>;
  tfidf?: Partial<TfidfOptions>;
  tokenizer?: Partial<FeaturizerConfig['tokenizer']>;
  priceBuckets?: number;
  priceNeighbourWeight?: number;
  categoryMinCount?: number;
  attributes?: Partial<AttributeOptions>;
  textAttributes?: string[];
  textSource?: 'tfidf' | 'encoder';
}

/** Where a block's columns sit in the item vector. */
export interface BlockLayout {
  name: BlockName;
  offset: number;
  size: number;
  weight: number;
}

/** Everything `transform` needs; arrays are stored as artifact tensors / id maps, the rest as JSON. */
export interface FeaturizerState {
  config: FeaturizerConfig;
  /** Documents the idf was fitted on. */
  nDocs: number;
  vocabulary: readonly string[];
  idf: Float32Array;
  categories: readonly string[];
  brands: readonly string[];
  priceEdges: Float64Array;
  attributes: AttributeSpec;
  /** textSource 'encoder': the embedding size (0 otherwise). */
  textDimensions: number;
}

/** Options of fit / transform. */
export interface FeaturizeOptions {
  progress?: Progress;
  /**
   * textSource 'encoder': the items' text embeddings, items × dimensions row-major (from
   * `encodeItemTexts`); they replace the TF-IDF block.
   */
  textVectors?: Float32Array;
}

export interface FeaturizeReport {
  items: number;
  dimensions: number;
  nnz: number;
  seconds: number;
  blocks: Array<BlockLayout & { itemsWithBlock: number }>;
  /** Items whose vector is all zero (no usable text, category, brand, price or attributes). */
  emptyItems: number;
}

function makeTokenizer(c: FeaturizerConfig['tokenizer']): Tokenizer {
  return new Tokenizer({ stem: c.stem, stopWords: c.stopWords ? ENGLISH_STOP_WORDS : null, minLength: c.minLength });
}

/** Text of an item: title, description and the listed attribute values, space-separated. */
export function itemText(item: CatalogItem, textAttributes: readonly string[]): string | null {
  let text = item.title ?? '';
  if (item.description) text = text ? `${text} ${item.description}` : item.description;
  if (textAttributes.length > 0 && item.features) {
    for (const key of textAttributes) {
      const v = item.features[key];
      if (Array.isArray(v)) text += ' ' + v.filter((x) => typeof x === 'string' || typeof x === 'number').join(' ');
      else if (typeof v === 'string' || typeof v === 'number') text += ' ' + String(v);
    }
  }
  return text === '' ? null : text;
}

/** Embeds the items' texts with a sentence encoder (for textSource 'encoder'). */
export async function encodeItemTexts(encoder: TextEncoder, items: readonly CatalogItem[], textAttributes: readonly string[] = []): Promise<Float32Array> {
  return encoder.encode(items.map((it) => itemText(it, textAttributes) ?? ''));
}

export class Featurizer {
  readonly config: FeaturizerConfig;
  readonly tfidf: TfidfVectorizer;
  readonly categories: CategoricalEncoder;
  readonly brands: CategoricalEncoder;
  readonly prices: PriceBuckets;
  readonly attributes: AttributeEncoder;
  /** textSource 'encoder': embedding size. */
  readonly textDimensions: number;
  private readonly tokenizer: Tokenizer;
  private attributeNames: string[] | null = null;

  private constructor(
    config: FeaturizerConfig,
    tfidf: TfidfVectorizer,
    categories: CategoricalEncoder,
    brands: CategoricalEncoder,
    prices: PriceBuckets,
    attributes: AttributeEncoder,
    textDimensions: number,
  ) {
    this.config = config;
    this.tfidf = tfidf;
    this.categories = categories;
    this.brands = brands;
    this.prices = prices;
    this.attributes = attributes;
    this.textDimensions = textDimensions;
    this.tokenizer = makeTokenizer(config.tokenizer);
  }

  /** Learns the encoders on `items` and returns them with the items' vectors (one tokenisation pass). */
  static fit(items: readonly CatalogItem[], config: DeepPartialConfig = {}, opts: FeaturizeOptions = {}): { featurizer: Featurizer; vectors: SparseMatrix; report: FeaturizeReport } {
    const t0 = performance.now();
    const c = resolveFeaturizerConfig(config);
    const tokenizer = makeTokenizer(c.tokenizer);
    const useTfidf = c.weights.text > 0 && c.textSource === 'tfidf';
    const corpus = useTfidf
      ? tokenizeCorpus(items.length, (d) => itemText(items[d], c.textAttributes), tokenizer, opts.progress)
      : tokenizeCorpus(items.length, () => null, tokenizer);
    const tfidf = TfidfVectorizer.fit(corpus, c.tfidf);
    let textDimensions = 0;
    if (c.weights.text > 0 && c.textSource === 'encoder') textDimensions = checkTextVectors(opts.textVectors, items.length, null);
    const categories = CategoricalEncoder.fit(c.weights.category > 0 ? items.map((it) => it.category) : [], c.categoryMinCount);
    const brands = CategoricalEncoder.fit(c.weights.brand > 0 ? items.map((it) => it.brand) : [], c.categoryMinCount);
    const prices = PriceBuckets.fit(c.weights.price > 0 ? items.map((it) => it.price) : [], c.priceBuckets);
    const attributes = AttributeEncoder.fit(c.weights.attributes > 0 ? items.map((it) => it.features) : [], c.attributes);
    const featurizer = new Featurizer(c, tfidf, categories, brands, prices, attributes, textDimensions);
    const { vectors, report } = featurizer.encode(items, corpus, opts, t0);
    return { featurizer, vectors, report };
  }

  /** Vectors of (new) items with the fitted encoders; unseen terms and values are ignored. */
  transform(items: readonly CatalogItem[], opts: FeaturizeOptions = {}): SparseMatrix {
    return this.transformWithReport(items, opts).vectors;
  }

  transformWithReport(items: readonly CatalogItem[], opts: FeaturizeOptions = {}): { vectors: SparseMatrix; report: FeaturizeReport } {
    const t0 = performance.now();
    const corpus = this.usesTfidf
      ? tokenizeCorpus(items.length, (d) => itemText(items[d], this.config.textAttributes), this.tokenizer, opts.progress)
      : tokenizeCorpus(items.length, () => null, this.tokenizer);
    return this.encode(items, corpus, opts, t0);
  }

  private get usesTfidf(): boolean {
    return this.config.weights.text > 0 && this.config.textSource === 'tfidf';
  }

  /** Whether transform needs `textVectors` (textSource 'encoder'). */
  get needsTextVectors(): boolean {
    return this.config.weights.text > 0 && this.config.textSource === 'encoder';
  }

  /** Total columns of an item vector. */
  get dimensions(): number {
    return this.layout().reduce((s, b) => s + b.size, 0);
  }

  layout(): BlockLayout[] {
    const sizes: Record<BlockName, number> = {
      text: this.config.textSource === 'encoder' ? this.textDimensions : this.tfidf.size,
      category: this.categories.size,
      brand: this.brands.size,
      price: this.prices.buckets,
      attributes: this.attributes.size,
    };
    let offset = 0;
    return BLOCK_NAMES.map((name) => {
      const b = { name, offset, size: sizes[name], weight: this.config.weights[name] };
      offset += sizes[name];
      return b;
    });
  }

  /** Human-readable name of a column ("text:leather", "brand:Acme", "price:3", "attr:genres=Comedy"). */
  columnName(column: number): string {
    for (const b of this.layout()) {
      if (column < b.offset || column >= b.offset + b.size) continue;
      const j = column - b.offset;
      switch (b.name) {
        case 'text':
          return this.config.textSource === 'encoder' ? `text:dim${j}` : `text:${this.tfidf.vocabulary[j]}`;
        case 'category':
          return `category:${this.categories.values[j]}`;
        case 'brand':
          return `brand:${this.brands.values[j]}`;
        case 'price':
          return `price:${j}`;
        case 'attributes':
          this.attributeNames ??= this.attributes.columnNames();
          return `attr:${this.attributeNames[j]}`;
      }
    }
    return `column:${column}`;
  }

  state(): FeaturizerState {
    return {
      config: this.config,
      nDocs: this.tfidf.nDocs,
      vocabulary: this.tfidf.vocabulary,
      idf: this.tfidf.idf,
      categories: this.categories.values,
      brands: this.brands.values,
      priceEdges: this.prices.edges,
      attributes: this.attributes.spec,
      textDimensions: this.textDimensions,
    };
  }

  static fromState(s: FeaturizerState): Featurizer {
    const config = resolveFeaturizerConfig(s.config);
    return new Featurizer(
      config,
      new TfidfVectorizer(s.vocabulary, s.idf, s.nDocs, config.tfidf),
      new CategoricalEncoder(s.categories),
      new CategoricalEncoder(s.brands),
      new PriceBuckets(s.priceEdges),
      new AttributeEncoder(s.attributes),
      s.textDimensions ?? 0,
    );
  }

  private encode(items: readonly CatalogItem[], corpus: TermCorpus, opts: FeaturizeOptions, t0: number): { vectors: SparseMatrix; report: FeaturizeReport } {
    const n = items.length;
    const w = this.config.weights;
    const text = this.needsTextVectors ? denseTextBlock(opts.textVectors, n, this.textDimensions) : this.tfidf.transformCorpus(corpus, opts.progress);
    const category = this.oneHot(items, (it) => this.categories.encode(it.category), this.categories.size, w.category > 0);
    const brand = this.oneHot(items, (it) => this.brands.encode(it.brand), this.brands.size, w.brand > 0);
    const price = this.priceBlock(items, w.price > 0);
    const attributes = this.attributeBlock(items, w.attributes > 0);
    const blocks = [
      { matrix: text, weight: w.text },
      { matrix: category, weight: w.category },
      { matrix: brand, weight: w.brand },
      { matrix: price, weight: w.price },
      { matrix: attributes, weight: w.attributes },
    ];
    const vectors = hstack(blocks);
    normalizeRowsInPlace(vectors);
    let emptyItems = 0;
    for (let r = 0; r < n; r++) if (vectors.indptr[r + 1] === vectors.indptr[r]) emptyItems++;
    const layout = this.layout();
    const report: FeaturizeReport = {
      items: n,
      dimensions: vectors.nCols,
      nnz: vectors.indices.length,
      seconds: (performance.now() - t0) / 1000,
      blocks: layout.map((b, i) => {
        const m = blocks[i].matrix;
        let withBlock = 0;
        for (let r = 0; r < n; r++) if (m.indptr[r + 1] > m.indptr[r]) withBlock++;
        return { ...b, itemsWithBlock: withBlock };
      }),
      emptyItems,
    };
    return { vectors, report };
  }

  private oneHot(items: readonly CatalogItem[], code: (it: CatalogItem) => number, size: number, enabled: boolean): SparseMatrix {
    const b = new SparseBuilder(size, items.length, enabled ? items.length : 16);
    for (const it of items) {
      const c = enabled ? code(it) : -1;
      if (c >= 0) b.push(c, 1);
      b.endRow();
    }
    return b.build();
  }

  private priceBlock(items: readonly CatalogItem[], enabled: boolean): SparseMatrix {
    const nb = this.prices.buckets;
    const nw = this.config.priceNeighbourWeight;
    const b = new SparseBuilder(nb, items.length, enabled ? items.length * 3 : 16);
    for (const it of items) {
      const bucket = enabled ? this.prices.bucket(it.price) : -1;
      if (bucket >= 0) {
        const lo = nw > 0 && bucket > 0;
        const hi = nw > 0 && bucket < nb - 1;
        const norm = Math.sqrt(1 + (lo ? nw * nw : 0) + (hi ? nw * nw : 0));
        if (lo) b.push(bucket - 1, nw / norm);
        b.push(bucket, 1 / norm);
        if (hi) b.push(bucket + 1, nw / norm);
      }
      b.endRow();
    }
    return b.build();
  }

  private attributeBlock(items: readonly CatalogItem[], enabled: boolean): SparseMatrix {
    const b = new SparseBuilder(this.attributes.size, items.length, enabled ? items.length * 4 : 16);
    const cols: number[] = [];
    const vals: number[] = [];
    const order: number[] = [];
    for (const it of items) {
      cols.length = 0;
      vals.length = 0;
      if (enabled) this.attributes.encodeInto(it.features, cols, vals);
      if (cols.length > 0) {
        order.length = 0;
        let norm = 0;
        for (let j = 0; j < cols.length; j++) {
          order.push(j);
          norm += vals[j] * vals[j];
        }
        order.sort((x, y) => cols[x] - cols[y]);
        const inv = 1 / Math.sqrt(norm);
        for (const j of order) b.push(cols[j], vals[j] * inv);
      }
      b.endRow();
    }
    return b.build();
  }
}

/** Checks the shape of encoder output; returns its dimensions. */
function checkTextVectors(v: Float32Array | undefined, n: number, dims: number | null): number {
  if (!v) {
    throw new RecsysError('RECSYS_ERR_MODEL_PARAM', "featurizer: textSource is 'encoder' but no text vectors were given; embed the texts with encodeItemTexts(encoder, items) first", { param: 'textSource' });
  }
  const d = dims ?? (n > 0 ? v.length / n : 0);
  if (!Number.isInteger(d) || v.length !== n * d) {
    throw new RecsysError('RECSYS_ERR_MODEL_PARAM', `featurizer: ${v.length} text vector values do not fit ${n} items${dims !== null ? ` × ${dims} dimensions` : ''}`, { param: 'textSource' });
  }
  return d;
}

/** Dense text embeddings as a sparse block (zeros skipped), each row unit norm. */
function denseTextBlock(v: Float32Array | undefined, n: number, dims: number): SparseMatrix {
  const values = v as Float32Array;
  checkTextVectors(values, n, dims);
  const b = new SparseBuilder(dims, n, n * dims);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let j = 0; j < dims; j++) s += values[r * dims + j] * values[r * dims + j];
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    if (inv > 0) for (let j = 0; j < dims; j++) if (values[r * dims + j] !== 0) b.push(j, values[r * dims + j] * inv);
    b.endRow();
  }
  return b.build();
}
