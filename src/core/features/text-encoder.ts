/**
 * Pluggable sentence encoders for the featurizer's text block (instead of TF-IDF).
 *
 * `TextEncoder` is the interface: texts in, one L2-normalised dense row per text out. The one
 * implementation is a local ONNX sentence-transformer (e.g. all-MiniLM-L6-v2 exported to ONNX,
 * the layout of the Xenova/* repositories): a folder holding `model.onnx` (or `onnx/model.onnx`)
 * and the BERT WordPiece `vocab.txt`. Inference: [CLS] WordPiece tokens [SEP] (uncased BERT
 * basic tokenisation: lower-case, strip accents, split punctuation and CJK characters), run the
 * graph, mean-pool `last_hidden_state` over the attention mask (Reimers & Gurevych,
 * "Sentence-BERT", EMNLP 2019), L2-normalise.
 *
 * Nothing is ever downloaded: the path must exist locally, else the loader fails with
 * "text encoder model not found at PATH". The runtime (`onnxruntime-node`) is not a dependency of
 * recsys (≈ 290 MB, and its install script fetches from nuget unless
 * ONNXRUNTIME_NODE_INSTALL=skip); it is imported only when a model is actually loaded, and a
 * missing runtime is a clean error too. No sentence-embedding weights can be fetched on the build
 * network, so TF-IDF is the default text block (docs/content.md).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { RecsysError } from '../errors.js';

export interface TextEncoder {
  /** Identifies the model (stored with a content model that used it). */
  readonly name: string;
  readonly dimensions: number;
  /** n × dimensions, row-major, each row unit L2 norm (zero for an empty text). */
  encode(texts: readonly string[]): Promise<Float32Array>;
  close?(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// The subset of onnxruntime-node's API used here (so a fake runtime can be injected in tests)
// ---------------------------------------------------------------------------------------------

export interface OnnxTensorLike {
  readonly data: ArrayLike<number> | Float32Array;
  readonly dims: readonly number[];
}

export interface OnnxSessionLike {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, unknown>): Promise<Record<string, OnnxTensorLike>>;
  release?(): Promise<void>;
}

export interface OnnxRuntimeLike {
  InferenceSession: { create(path: string, options?: Record<string, unknown>): Promise<OnnxSessionLike> };
  Tensor: new (type: 'int64', data: BigInt64Array, dims: readonly number[]) => unknown;
}

export interface OnnxEncoderOptions {
  /** Folder with model.onnx (or onnx/model.onnx) and vocab.txt. */
  modelPath: string;
  /** Tokens per text including [CLS]/[SEP] (default 128). */
  maxLength?: number;
  /** Texts per inference call (default 32). */
  batchSize?: number;
  /** Intra-op threads (default: the runtime's choice). */
  threads?: number;
  /** Inject a runtime (tests); default: `import('onnxruntime-node')`. */
  runtime?: OnnxRuntimeLike;
}

/** The files of a local sentence-transformer folder, or a clean error naming what is missing. */
export function locateOnnxModel(modelPath: string): { dir: string; model: string; vocab: string } {
  const dir = resolve(modelPath);
  if (!existsSync(dir)) {
    throw new RecsysError(
      'RECSYS_ERR_FILE_NOT_FOUND',
      `text encoder model not found at ${dir}: put a sentence-transformer exported to ONNX there (model.onnx or onnx/model.onnx, plus vocab.txt). Nothing is downloaded; without one, keep the default TF-IDF text features.`,
      { file: dir },
    );
  }
  if (!statSync(dir).isDirectory()) {
    throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `text encoder model not found at ${dir}: expected a folder holding model.onnx and vocab.txt, got a file`, { file: dir });
  }
  const model = [join(dir, 'model.onnx'), join(dir, 'onnx', 'model.onnx')].find((p) => existsSync(p));
  if (!model) {
    throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `text encoder model not found at ${dir}: no model.onnx (or onnx/model.onnx) in that folder`, { file: join(dir, 'model.onnx') });
  }
  const vocab = join(dir, 'vocab.txt');
  if (!existsSync(vocab)) {
    throw new RecsysError('RECSYS_ERR_FILE_NOT_FOUND', `text encoder model at ${dir} has no vocab.txt (the BERT WordPiece vocabulary the model was trained with)`, { file: vocab });
  }
  return { dir, model, vocab };
}

async function importRuntime(): Promise<OnnxRuntimeLike> {
  // A variable module name keeps TypeScript and bundlers from resolving an optional dependency.
  const name = 'onnxruntime-node';
  try {
    return (await import(name)) as OnnxRuntimeLike;
  } catch (e) {
    throw new RecsysError(
      'RECSYS_ERR_USAGE',
      `the ONNX text encoder needs onnxruntime-node, which is not installed: run \`ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node\` (the skip flag avoids its nuget download), or keep the default TF-IDF text features`,
      {},
      { cause: e },
    );
  }
}

/** Loads a local ONNX sentence-transformer. Throws "text encoder model not found at PATH" when absent. */
export async function loadOnnxTextEncoder(opts: OnnxEncoderOptions): Promise<TextEncoder> {
  const files = locateOnnxModel(opts.modelPath);
  const tokenizer = WordPieceTokenizer.fromVocabFile(files.vocab);
  const runtime = opts.runtime ?? (await importRuntime());
  const sessionOptions: Record<string, unknown> = {};
  if (opts.threads) sessionOptions.intraOpNumThreads = opts.threads;
  const session = await runtime.InferenceSession.create(files.model, sessionOptions);
  return new OnnxSentenceEncoder(`onnx:${files.dir}`, session, runtime, tokenizer, opts.maxLength ?? 128, opts.batchSize ?? 32);
}

class OnnxSentenceEncoder implements TextEncoder {
  readonly name: string;
  dimensions = 0;

  constructor(
    name: string,
    private readonly session: OnnxSessionLike,
    private readonly runtime: OnnxRuntimeLike,
    private readonly tokenizer: WordPieceTokenizer,
    private readonly maxLength: number,
    private readonly batchSize: number,
  ) {
    this.name = name;
  }

  async encode(texts: readonly string[]): Promise<Float32Array> {
    const chunks: Float32Array[] = [];
    for (let start = 0; start < texts.length; start += this.batchSize) {
      chunks.push(await this.encodeBatch(texts.slice(start, start + this.batchSize)));
    }
    const out = new Float32Array(texts.length * this.dimensions);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    return out;
  }

  private async encodeBatch(texts: readonly string[]): Promise<Float32Array> {
    const encoded = texts.map((t) => this.tokenizer.encode(t, this.maxLength));
    const seq = Math.max(...encoded.map((e) => e.length));
    const b = texts.length;
    const ids = new BigInt64Array(b * seq);
    const mask = new BigInt64Array(b * seq);
    for (let r = 0; r < b; r++) {
      for (let j = 0; j < encoded[r].length; j++) {
        ids[r * seq + j] = BigInt(encoded[r][j]);
        mask[r * seq + j] = 1n;
      }
    }
    const feeds: Record<string, unknown> = {};
    const T = this.runtime.Tensor;
    for (const name of this.session.inputNames) {
      if (name === 'input_ids') feeds[name] = new T('int64', ids, [b, seq]);
      else if (name === 'attention_mask') feeds[name] = new T('int64', mask, [b, seq]);
      else if (name === 'token_type_ids') feeds[name] = new T('int64', new BigInt64Array(b * seq), [b, seq]);
      else throw new RecsysError('RECSYS_ERR_USAGE', `text encoder ${this.name}: unexpected model input '${name}' (expected input_ids, attention_mask, token_type_ids)`);
    }
    const result = await this.session.run(feeds);
    const outName = this.session.outputNames.includes('last_hidden_state') ? 'last_hidden_state' : this.session.outputNames[0];
    const hidden = result[outName];
    if (!hidden || hidden.dims.length !== 3 || hidden.dims[0] !== b || hidden.dims[1] !== seq) {
      throw new RecsysError('RECSYS_ERR_USAGE', `text encoder ${this.name}: output '${outName}' has shape [${hidden?.dims.join(', ') ?? ''}], expected [${b}, ${seq}, hidden]`);
    }
    const dims = hidden.dims[2];
    this.dimensions = dims;
    return meanPool(Float32Array.from(hidden.data as ArrayLike<number>), mask, b, seq, dims);
  }

  async close(): Promise<void> {
    await this.session.release?.();
  }
}

/** Mean of the token rows whose mask is 1, per text, then L2-normalised. hidden: b × seq × dims. */
export function meanPool(hidden: Float32Array, mask: BigInt64Array | Int32Array, b: number, seq: number, dims: number): Float32Array {
  const out = new Float32Array(b * dims);
  const acc = new Float64Array(dims);
  for (let r = 0; r < b; r++) {
    acc.fill(0);
    let count = 0;
    for (let t = 0; t < seq; t++) {
      if (Number(mask[r * seq + t]) === 0) continue;
      count++;
      const o = (r * seq + t) * dims;
      for (let j = 0; j < dims; j++) acc[j] += hidden[o + j];
    }
    let norm = 0;
    for (let j = 0; j < dims; j++) {
      acc[j] = count > 0 ? acc[j] / count : 0;
      norm += acc[j] * acc[j];
    }
    const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
    for (let j = 0; j < dims; j++) out[r * dims + j] = acc[j] * inv;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// BERT WordPiece tokenizer (uncased), as the sentence-transformers ONNX exports expect
// ---------------------------------------------------------------------------------------------

const PUNCT = /[\p{P}\p{S}]/u;
// BERT splits CJK ideographs (Han) into single characters; kana stay inside words.
const CJK = /\p{Script=Han}/u;

export class WordPieceTokenizer {
  private readonly vocab: Map<string, number>;
  readonly clsId: number;
  readonly sepId: number;
  readonly unkId: number;

  constructor(tokens: readonly string[]) {
    this.vocab = new Map();
    tokens.forEach((t, i) => {
      if (!this.vocab.has(t)) this.vocab.set(t, i);
    });
    const need = (t: string): number => {
      const id = this.vocab.get(t);
      if (id === undefined) throw new RecsysError('RECSYS_ERR_USAGE', `WordPiece vocabulary has no ${t} token: is this a BERT vocab.txt?`);
      return id;
    };
    this.clsId = need('[CLS]');
    this.sepId = need('[SEP]');
    this.unkId = need('[UNK]');
  }

  static fromVocabFile(path: string): WordPieceTokenizer {
    const lines = readFileSync(path, 'utf8').split(/\r?\n/);
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return new WordPieceTokenizer(lines);
  }

  /** Basic tokenisation: lower-case, strip accents, split on whitespace, punctuation and CJK characters. */
  basicTokens(text: string): string[] {
    const s = text.toLowerCase().normalize('NFD').replace(/\p{Mn}/gu, '');
    const out: string[] = [];
    let cur = '';
    for (const ch of s) {
      if (/\s/u.test(ch) || /\p{Cc}/u.test(ch)) {
        if (cur) out.push(cur);
        cur = '';
      } else if (PUNCT.test(ch) || CJK.test(ch)) {
        if (cur) out.push(cur);
        cur = '';
        out.push(ch);
      } else {
        cur += ch;
      }
    }
    if (cur) out.push(cur);
    return out;
  }

  /** Greedy longest-match-first WordPiece of one basic token (continuations prefixed "##"). */
  wordPieces(word: string): number[] {
    const chars = [...word];
    if (chars.length > 100) return [this.unkId];
    const ids: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found = -1;
      while (start < end) {
        const piece = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
        const id = this.vocab.get(piece);
        if (id !== undefined) {
          found = id;
          break;
        }
        end--;
      }
      if (found < 0) return [this.unkId];
      ids.push(found);
      start = end;
    }
    return ids;
  }

  /** [CLS] pieces… [SEP], truncated to maxLength ids. */
  encode(text: string, maxLength: number): number[] {
    const ids = [this.clsId];
    for (const w of this.basicTokens(text)) {
      for (const id of this.wordPieces(w)) {
        if (ids.length >= maxLength - 1) break;
        ids.push(id);
      }
      if (ids.length >= maxLength - 1) break;
    }
    ids.push(this.sepId);
    return ids;
  }
}
