/** Tokenizer: Unicode handling, stop words, Porter stems (pairs from Porter's 1980 paper). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ENGLISH_STOP_WORDS, porterStem, Tokenizer } from '../../src/core/features/tokenize.js';

test('Porter stemmer reproduces the examples of Porter (1980), steps 1–5', () => {
  const pairs: Array<[string, string]> = [
    ['caresses', 'caress'], ['ponies', 'poni'], ['ties', 'ti'], ['caress', 'caress'], ['cats', 'cat'],
    ['feed', 'feed'], ['agreed', 'agre'], ['plastered', 'plaster'], ['motoring', 'motor'], ['sing', 'sing'],
    ['conflated', 'conflat'], ['troubled', 'troubl'], ['sized', 'size'], ['hopping', 'hop'], ['tanned', 'tan'],
    ['falling', 'fall'], ['hissing', 'hiss'], ['fizzed', 'fizz'], ['failing', 'fail'], ['filing', 'file'],
    ['happy', 'happi'], ['sky', 'sky'], ['relational', 'relat'], ['conditional', 'condit'], ['rational', 'ration'],
    ['valenci', 'valenc'], ['hesitanci', 'hesit'], ['digitizer', 'digit'], ['conformabli', 'conform'],
    ['radicalli', 'radic'], ['differentli', 'differ'], ['vileli', 'vile'], ['analogousli', 'analog'],
    ['vietnamization', 'vietnam'], ['predication', 'predic'], ['operator', 'oper'], ['feudalism', 'feudal'],
    ['decisiveness', 'decis'], ['hopefulness', 'hope'], ['callousness', 'callous'], ['formaliti', 'formal'],
    ['sensitiviti', 'sensit'], ['sensibiliti', 'sensibl'], ['triplicate', 'triplic'], ['formative', 'form'],
    ['formalize', 'formal'], ['electriciti', 'electr'], ['electrical', 'electr'], ['hopeful', 'hope'],
    ['goodness', 'good'], ['revival', 'reviv'], ['allowance', 'allow'], ['inference', 'infer'],
    ['airliner', 'airlin'], ['gyroscopic', 'gyroscop'], ['adjustable', 'adjust'], ['defensible', 'defens'],
    ['irritant', 'irrit'], ['replacement', 'replac'], ['adjustment', 'adjust'], ['dependent', 'depend'],
    ['adoption', 'adopt'], ['homologou', 'homolog'], ['communism', 'commun'], ['activate', 'activ'],
    ['angulariti', 'angular'], ['homologous', 'homolog'], ['effective', 'effect'], ['bowdlerize', 'bowdler'],
    ['probate', 'probat'], ['rate', 'rate'], ['cease', 'ceas'], ['controll', 'control'], ['roll', 'roll'],
    ['generalizations', 'gener'], ['oscillators', 'oscil'], ['running', 'run'], ['is', 'is'],
  ];
  for (const [word, stem] of pairs) assert.equal(porterStem(word), stem, word);
});

test('lower-cases, splits on non-letters, drops stop words and short tokens, stems', () => {
  const t = new Tokenizer();
  assert.deepEqual(t.tokenize('The Running Shoes, for RUNNERS: lightweight & breathable!'), ['run', 'shoe', 'runner', 'lightweight', 'breathabl']);
  assert.deepEqual(t.tokenize('I a the x 7'), []);
  assert.deepEqual(t.tokenize(''), []);
  assert.ok(ENGLISH_STOP_WORDS.has('the') && ENGLISH_STOP_WORDS.has('dont'));
  // Numbers and mixed tokens are kept as they are (not stemmed).
  assert.deepEqual(t.tokenize('USB3 128GB cable 1995'), ['usb3', '128gb', 'cabl', '1995']);
  // Possessive 's dropped, other apostrophes removed (curly or straight); "don't" → "dont" is a stop word.
  assert.deepEqual(new Tokenizer({ stem: false }).tokenize("Children's don't O’Reilly rock'n'roll"), ['children', 'oreilly', 'rocknroll']);
});

test('Unicode: NFKC, diacritic folding, non-Latin scripts, CJK bigrams, emoji', () => {
  const t = new Tokenizer({ stem: false });
  // Full-width letters and ligatures (NFKC).
  assert.deepEqual(t.tokenize('Ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ ﬁne ﬂour'), ['full', 'width', 'abc', 'fine', 'flour']);
  // Latin diacritics folded; ß kept (it is a letter, not a diacritic).
  assert.deepEqual(t.tokenize('naïve Café CRÈME brûlée Straße'), ['naive', 'cafe', 'creme', 'brulee', 'straße']);
  assert.deepEqual(new Tokenizer({ stem: false, foldDiacritics: false }).tokenize('Café'), ['café']);
  // Cyrillic and Greek (tonos folded); the one-letter Russian "и" is below minLength.
  assert.deepEqual(t.tokenize('Кошки и собаки'), ['кошки', 'собаки']);
  assert.deepEqual(t.tokenize('Καλημέρα κόσμε'), ['καλημερα', 'κοσμε']);
  // Devanagari vowel signs and virama are marks of their own block: kept inside the word.
  assert.deepEqual(t.tokenize('नमस्ते दुनिया'), ['नमस्ते', 'दुनिया']);
  // Han/kana runs → overlapping bigrams; the prolonged sound mark ー belongs to the katakana run.
  assert.deepEqual(t.tokenize('東京タワー'), ['東京', '京タ', 'タワ', 'ワー']);
  assert.deepEqual(t.tokenize('iPhone用ケース'), ['iphone', '用ケ', 'ケー', 'ース']);
  assert.deepEqual(t.tokenize('猫'), ['猫']);
  assert.deepEqual(new Tokenizer({ cjkBigrams: false }).tokenize('東京タワー'), ['東京タワー']);
  // Emoji and symbols are not words.
  assert.deepEqual(t.tokenize('👍 great ★★★'), ['great']);
  // Stemming applies to Latin a–z words only.
  assert.deepEqual(new Tokenizer().tokenize('running кошки'), ['run', 'кошки']);
});

test('options: no stop words, no stemming, minLength', () => {
  assert.deepEqual(new Tokenizer({ stopWords: null, stem: false, minLength: 1 }).tokenize('I and a cat'), ['i', 'and', 'a', 'cat']);
  assert.deepEqual(new Tokenizer({ minLength: 4 }).tokenize('big cats jump'), ['cat', 'jump']);
});
