/**
 * Text-encoder loader: the clean "model not found at PATH" errors (no weights can be obtained on
 * this network), WordPiece tokenisation, and mean pooling through a fake ONNX runtime.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isRecsysError } from '../../src/core/errors.js';
import { loadOnnxTextEncoder, meanPool, WordPieceTokenizer, type OnnxRuntimeLike, type OnnxSessionLike } from '../../src/core/features/text-encoder.js';

const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'un', '##aff', '##able', 'hello', 'world', ',', '!', '東', '京'];

function modelDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'recsys-encoder-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  return dir;
}

test('a missing model path fails with "text encoder model not found at PATH"', async () => {
  const missing = join(tmpdir(), 'recsys-no-such-model-dir', 'all-MiniLM-L6-v2');
  await assert.rejects(loadOnnxTextEncoder({ modelPath: missing }), (e: unknown) => {
    assert.ok(isRecsysError(e));
    assert.equal(e.code, 'RECSYS_ERR_FILE_NOT_FOUND');
    assert.ok(e.message.startsWith(`text encoder model not found at ${missing}`), e.message);
    assert.match(e.message, /TF-IDF/);
    assert.equal(e.data.file, missing);
    return true;
  });
  const noOnnx = modelDir({ 'vocab.txt': VOCAB.join('\n') });
  await assert.rejects(loadOnnxTextEncoder({ modelPath: noOnnx }), (e: unknown) => isRecsysError(e) && e.code === 'RECSYS_ERR_FILE_NOT_FOUND' && e.message.startsWith(`text encoder model not found at ${noOnnx}: no model.onnx`));
  const noVocab = modelDir({ 'onnx/model.onnx': 'x' });
  await assert.rejects(loadOnnxTextEncoder({ modelPath: noVocab }), (e: unknown) => isRecsysError(e) && e.code === 'RECSYS_ERR_FILE_NOT_FOUND' && /no vocab\.txt/.test(e.message));
  const file = join(noVocab, 'onnx', 'model.onnx');
  await assert.rejects(loadOnnxTextEncoder({ modelPath: file }), (e: unknown) => isRecsysError(e) && /expected a folder/.test(e.message));
});

test('without onnxruntime-node installed, a present model gives an install hint', async (t) => {
  let installed = true;
  try {
    createRequire(import.meta.url).resolve('onnxruntime-node');
  } catch {
    installed = false;
  }
  if (installed) {
    t.skip('onnxruntime-node is installed here');
    return;
  }
  const dir = modelDir({ 'model.onnx': 'not really a model', 'vocab.txt': VOCAB.join('\n') + '\n' });
  await assert.rejects(loadOnnxTextEncoder({ modelPath: dir }), (e: unknown) => isRecsysError(e) && e.code === 'RECSYS_ERR_USAGE' && /ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node/.test(e.message));
});

test('WordPiece: BERT basic tokenisation and greedy longest-match pieces', () => {
  const wp = new WordPieceTokenizer(VOCAB);
  assert.deepEqual(wp.basicTokens('Héllo, WORLD!東京'), ['hello', ',', 'world', '!', '東', '京']);
  assert.deepEqual(wp.wordPieces('unaffable'), [4, 5, 6]);
  assert.deepEqual(wp.wordPieces('unknownword'), [1]);
  assert.deepEqual(wp.encode('hello unaffable', 128), [2, 7, 4, 5, 6, 3]);
  // Truncation keeps [CLS] … [SEP] within maxLength.
  assert.deepEqual(wp.encode('hello world hello world', 4), [2, 7, 8, 3]);
  assert.throws(() => new WordPieceTokenizer(['a', 'b']), /\[CLS\]/);
});

test('mean pooling over the attention mask, L2-normalised, through a fake runtime', async () => {
  class FakeTensor {
    constructor(readonly type: string, readonly data: BigInt64Array, readonly dims: readonly number[]) {}
  }
  const calls: number[][] = [];
  // Hidden state of a token = [token id, 1]: the pooled vector is (mean id, 1), normalised.
  const session: OnnxSessionLike = {
    inputNames: ['input_ids', 'attention_mask', 'token_type_ids'],
    outputNames: ['last_hidden_state'],
    async run(feeds) {
      const ids = feeds.input_ids as FakeTensor;
      const [b, seq] = ids.dims;
      calls.push([b, seq]);
      const data = new Float32Array(b * seq * 2);
      for (let i = 0; i < b * seq; i++) {
        data[i * 2] = Number(ids.data[i]);
        data[i * 2 + 1] = 1;
      }
      return { last_hidden_state: { data, dims: [b, seq, 2] } };
    },
  };
  const runtime: OnnxRuntimeLike = {
    InferenceSession: { create: async () => session },
    Tensor: FakeTensor as unknown as OnnxRuntimeLike['Tensor'],
  };
  const dir = modelDir({ 'model.onnx': 'fake', 'vocab.txt': VOCAB.join('\n') + '\n' });
  const encoder = await loadOnnxTextEncoder({ modelPath: dir, runtime, batchSize: 2 });
  const out = await encoder.encode(['hello world', 'hello', 'world']);
  assert.equal(encoder.dimensions, 2);
  assert.deepEqual(calls, [[2, 4], [1, 3]]);
  // "hello world" = [CLS]2 hello7 world8 [SEP]3 → mean id 5 → (5, 1)/√26.
  const expect = (m: number): [number, number] => [m / Math.hypot(m, 1), 1 / Math.hypot(m, 1)];
  const rows = [expect(5), expect(4), expect(13 / 3)];
  rows.forEach(([a, b], r) => {
    assert.ok(Math.abs(out[r * 2] - a) < 1e-6 && Math.abs(out[r * 2 + 1] - b) < 1e-6, `row ${r}: ${out[r * 2]}, ${out[r * 2 + 1]}`);
  });
  assert.match(encoder.name, /^onnx:/);
});

test('meanPool: a text whose mask is all zero pools to the zero vector', () => {
  const out = meanPool(Float32Array.of(1, 2, 3, 4), new Int32Array([0, 0]), 1, 2, 2);
  assert.deepEqual([...out], [0, 0]);
});
