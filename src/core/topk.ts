/**
 * Partial top-k selection over a score vector with a bounded min-heap: O(n log k), no full sort.
 * Ties are broken deterministically by the smaller item index (so results never depend on the
 * order the candidates were visited in).
 */
export class TopK {
  readonly k: number;
  private readonly heapItems: Int32Array;
  private readonly heapScores: Float32Array;
  private size = 0;

  constructor(k: number) {
    this.k = k;
    this.heapItems = new Int32Array(Math.max(k, 1));
    this.heapScores = new Float32Array(Math.max(k, 1));
  }

  reset(): void {
    this.size = 0;
  }

  /** true when (s1, i1) ranks below (s2, i2): lower score, or equal score and larger index. */
  private static worse(s1: number, i1: number, s2: number, i2: number): boolean {
    return s1 < s2 || (s1 === s2 && i1 > i2);
  }

  push(item: number, score: number): void {
    if (this.k === 0 || Number.isNaN(score)) return;
    const hs = this.heapScores;
    const hi = this.heapItems;
    if (this.size < this.k) {
      let c = this.size++;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (!TopK.worse(score, item, hs[p], hi[p])) break;
        hs[c] = hs[p];
        hi[c] = hi[p];
        c = p;
      }
      hs[c] = score;
      hi[c] = item;
      return;
    }
    // Heap root is the worst kept; replace it only if the newcomer is better.
    if (!TopK.worse(hs[0], hi[0], score, item)) return;
    let c = 0;
    const n = this.size;
    for (;;) {
      const l = 2 * c + 1;
      if (l >= n) break;
      const r = l + 1;
      let m = l;
      if (r < n && TopK.worse(hs[r], hi[r], hs[l], hi[l])) m = r;
      if (!TopK.worse(hs[m], hi[m], score, item)) break;
      hs[c] = hs[m];
      hi[c] = hi[m];
      c = m;
    }
    hs[c] = score;
    hi[c] = item;
  }

  /** Lowest score currently kept (−Infinity while fewer than k are kept). */
  threshold(): number {
    return this.size < this.k ? -Infinity : this.heapScores[0];
  }

  /**
   * Writes the kept items best-first into items/scores at `offset`, pads the rest of the k slots
   * with -1/−Infinity, and returns how many were written.
   */
  drainInto(items: Int32Array, scores: Float32Array, offset: number): number {
    const n = this.size;
    const order = Array.from({ length: n }, (_, i) => i);
    const hs = this.heapScores;
    const hi = this.heapItems;
    order.sort((a, b) => hs[b] - hs[a] || hi[a] - hi[b]);
    for (let j = 0; j < n; j++) {
      items[offset + j] = hi[order[j]];
      scores[offset + j] = hs[order[j]];
    }
    for (let j = n; j < this.k; j++) {
      items[offset + j] = -1;
      scores[offset + j] = -Infinity;
    }
    this.size = 0;
    return n;
  }
}

/**
 * Top-k of a dense score vector for one user, skipping excluded items (sorted index list, e.g. a
 * CSR row) and items in `excludeSet`.
 */
export function topKDense(
  scores: Float32Array,
  heap: TopK,
  out: { items: Int32Array; scores: Float32Array; offset: number },
  excludeSorted: Int32Array | null,
  excludeSet: ReadonlySet<number> | null = null,
): number {
  heap.reset();
  let e = 0;
  const ne = excludeSorted ? excludeSorted.length : 0;
  for (let i = 0; i < scores.length; i++) {
    if (e < ne) {
      while (e < ne && excludeSorted![e] < i) e++;
      if (e < ne && excludeSorted![e] === i) continue;
    }
    if (excludeSet && excludeSet.has(i)) continue;
    const s = scores[i];
    if (s > heap.threshold() || (s === heap.threshold())) heap.push(i, s);
  }
  return heap.drainInto(out.items, out.scores, out.offset);
}
