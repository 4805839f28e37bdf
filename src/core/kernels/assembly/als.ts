/**
 * ALS hot loops in AssemblyScript, compiled to WebAssembly with SIMD (f32x4) and shared memory
 * (scripts/build-wasm.mjs). JavaScript owns the memory layout: every function takes byte offsets
 * into the one imported (shared) memory and never allocates, so several threads can run the same
 * module over the same memory (the stub runtime's allocator would hand every instance the same
 * addresses). The module has no data segments, so instantiating it never writes to memory.
 *
 * Layout conventions (all little-endian, 16-byte aligned):
 *  - factor matrices are row-major with a row stride `kp` = factors rounded up to a multiple of 4,
 *    the padding columns are zero and stay zero;
 *  - a CSR block is indptr (i32), indices and weights (f32) where a weight w ≥ 0 means preference
 *    p = 1 with confidence c = 1 + w, and w < 0 means p = 0 with c = 1 − w (implicit's convention
 *    for negative feedback). A weights offset of 0 means "every entry has the weight `uniform`"
 *    (binary data needs no weight arrays at all). Column indices come in two layouts, chosen per
 *    block by `nSeg`:
 *      nSeg = 0: indices are i32 and indptr has rows + 1 entries;
 *      nSeg ≥ 1: indices are u16, relative to 65,536-column segments: row r's entries of segment
 *        s are [indptr[r·nSeg + s], indptr[r·nSeg + s + 1]) and hold column s·65536 + index.
 *        indptr has rows·nSeg + 1 entries (a plain indptr when nSeg = 1). Half the index bytes;
 *        the segment's base row of the dense factors is folded into the pointer passed down;
 *  - item panels for scoring hold 8 items side by side: panel q, dimension d, lane j is item
 *    8q + j at offset ((q·kp + d)·8 + j)·4.
 *
 * The maths (Hu, Koren & Volinsky 2008; CG as in implicit's `_als.pyx`) is documented in
 * src/core/models/als/solver-reference.ts, whose plain-TypeScript kernels are the test oracle.
 */

/**
 * Version of the calling convention below; the loader refuses a .wasm built from an older source
 * (bump it whenever an exported signature or a layout changes).
 */
export function abiVersion(): i32 {
  return 4;
}

/** Columns per index segment in the u16 CSR layout. */
const SEGMENT: usize = 65536;

// ---------------------------------------------------------------------------------------------
// small vector helpers over kp floats (kp is a multiple of 4)

@inline function dot(a: usize, b: usize, kp: i32): f32 {
  let acc0 = f32x4.splat(0);
  let acc1 = f32x4.splat(0);
  let d = 0;
  for (; d + 8 <= kp; d += 8) {
    const o = <usize>d << 2;
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
    acc1 = f32x4.add(acc1, f32x4.mul(v128.load(a + o, 16), v128.load(b + o, 16)));
  }
  if (d < kp) {
    const o = <usize>d << 2;
    acc0 = f32x4.add(acc0, f32x4.mul(v128.load(a + o), v128.load(b + o)));
  }
  const s = f32x4.add(acc0, acc1);
  return f32x4.extract_lane(s, 0) + f32x4.extract_lane(s, 1) + (f32x4.extract_lane(s, 2) + f32x4.extract_lane(s, 3));
}

@inline function weightAt(weights: usize, uniform: f32, e: i32): f32 {
  return weights != 0 ? load<f32>(weights + (<usize>e << 2)) : uniform;
}

/** y += t·x */
@inline function axpy(t: f32, x: usize, y: usize, kp: i32): void {
  const tv = f32x4.splat(t);
  for (let d = 0; d < kp; d += 4) {
    const o = <usize>d << 2;
    v128.store(y + o, f32x4.add(v128.load(y + o), f32x4.mul(tv, v128.load(x + o))));
  }
}

/** out = G·v + lambda·v for a symmetric kp×kp matrix G (column form: Σ_a v[a]·G[a,:]). */
function symv(G: usize, v: usize, lambda: f32, out: usize, kp: i32): void {
  const rowBytes = <usize>kp << 2;
  let j = 0;
  // 32 outputs at a time in eight registers.
  for (; j + 32 <= kp; j += 32) {
    const base = G + (<usize>j << 2);
    let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
    let a4 = f32x4.splat(0), a5 = f32x4.splat(0), a6 = f32x4.splat(0), a7 = f32x4.splat(0);
    let row = base;
    for (let a = 0; a < kp; a++) {
      const s = v128.load32_splat(v + (<usize>a << 2));
      a0 = f32x4.add(a0, f32x4.mul(s, v128.load(row, 0)));
      a1 = f32x4.add(a1, f32x4.mul(s, v128.load(row, 16)));
      a2 = f32x4.add(a2, f32x4.mul(s, v128.load(row, 32)));
      a3 = f32x4.add(a3, f32x4.mul(s, v128.load(row, 48)));
      a4 = f32x4.add(a4, f32x4.mul(s, v128.load(row, 64)));
      a5 = f32x4.add(a5, f32x4.mul(s, v128.load(row, 80)));
      a6 = f32x4.add(a6, f32x4.mul(s, v128.load(row, 96)));
      a7 = f32x4.add(a7, f32x4.mul(s, v128.load(row, 112)));
      row += rowBytes;
    }
    const lv = f32x4.splat(lambda);
    const vo = v + (<usize>j << 2);
    const oo = out + (<usize>j << 2);
    v128.store(oo, f32x4.add(a0, f32x4.mul(lv, v128.load(vo, 0))), 0);
    v128.store(oo, f32x4.add(a1, f32x4.mul(lv, v128.load(vo, 16))), 16);
    v128.store(oo, f32x4.add(a2, f32x4.mul(lv, v128.load(vo, 32))), 32);
    v128.store(oo, f32x4.add(a3, f32x4.mul(lv, v128.load(vo, 48))), 48);
    v128.store(oo, f32x4.add(a4, f32x4.mul(lv, v128.load(vo, 64))), 64);
    v128.store(oo, f32x4.add(a5, f32x4.mul(lv, v128.load(vo, 80))), 80);
    v128.store(oo, f32x4.add(a6, f32x4.mul(lv, v128.load(vo, 96))), 96);
    v128.store(oo, f32x4.add(a7, f32x4.mul(lv, v128.load(vo, 112))), 112);
  }
  // Remaining columns, four at a time.
  for (; j < kp; j += 4) {
    let acc = f32x4.splat(0);
    let row = G + (<usize>j << 2);
    for (let a = 0; a < kp; a++) {
      acc = f32x4.add(acc, f32x4.mul(v128.load32_splat(v + (<usize>a << 2)), v128.load(row)));
      row += rowBytes;
    }
    const o = <usize>j << 2;
    v128.store(out + o, f32x4.add(acc, f32x4.mul(f32x4.splat(lambda), v128.load(v + o))));
  }
}

/** [Σa0, Σa1, Σa2, Σa3]: the four horizontal sums in one vector. */
@inline function hsum4(a0: v128, a1: v128, a2: v128, a3: v128): v128 {
  const u0 = f32x4.add(v128.shuffle<f32>(a0, a1, 0, 4, 1, 5), v128.shuffle<f32>(a0, a1, 2, 6, 3, 7));
  const u1 = f32x4.add(v128.shuffle<f32>(a2, a3, 0, 4, 1, 5), v128.shuffle<f32>(a2, a3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(u0, u1, 0, 1, 4, 5), v128.shuffle<f32>(u0, u1, 2, 3, 6, 7));
}

/**
 * The sparse part of a CG product over one row's entries [begin, stop):
 *   residual = true:  out += Σ_e (b_e − |w_e|·(y_e·v))·y_e   with b_e = 1 + w_e if w_e ≥ 0 else 0
 *   residual = false: out += Σ_e |w_e|·(y_e·v)·y_e
 * Four entries at a time: their four dot products share each load of v, the four sums come out
 * of one shuffle tree as a vector, and the four axpys share each load/store of `out` (all four
 * y_e are still in L1). This halves the loads per multiply-add against entry-by-entry dot + axpy.
 * T is the column index type (i32, or u16 relative to the segment whose first row `Y` points at).
 */
function sparsePass<T>(begin: i32, stop: i32, indices: usize, weights: usize, uniform: f32, Y: usize, v: usize, out: usize, kp: i32, residual: bool, sink: usize): void {
  const rowBytes = <usize>kp << 2;
  const ib: usize = sizeof<T>();
  const uniformV = f32x4.splat(uniform);
  const zero = f32x4.splat(0);
  const one = f32x4.splat(1);
  let e = begin;
  // Touch the rows two blocks ahead so their cache misses overlap this block's arithmetic (wasm
  // has no prefetch instruction; the loaded values go to a scratch sink nobody reads).
  let touch = f32x4.splat(0);
  for (; e + 4 <= stop; e += 4) {
    const ip = indices + <usize>e * ib;
    if (e + 12 <= stop) {
      const n0 = Y + <usize>load<T>(ip + 8 * ib) * rowBytes;
      const n1 = Y + <usize>load<T>(ip + 9 * ib) * rowBytes;
      const n2 = Y + <usize>load<T>(ip + 10 * ib) * rowBytes;
      const n3 = Y + <usize>load<T>(ip + 11 * ib) * rowBytes;
      touch = f32x4.add(touch, f32x4.add(f32x4.add(v128.load(n0), v128.load(n0, 64)), f32x4.add(v128.load(n0, 128), v128.load(n0, 192))));
      touch = f32x4.add(touch, f32x4.add(f32x4.add(v128.load(n1), v128.load(n1, 64)), f32x4.add(v128.load(n1, 128), v128.load(n1, 192))));
      touch = f32x4.add(touch, f32x4.add(f32x4.add(v128.load(n2), v128.load(n2, 64)), f32x4.add(v128.load(n2, 128), v128.load(n2, 192))));
      touch = f32x4.add(touch, f32x4.add(f32x4.add(v128.load(n3), v128.load(n3, 64)), f32x4.add(v128.load(n3, 128), v128.load(n3, 192))));
    }
    const y0 = Y + <usize>load<T>(ip) * rowBytes;
    const y1 = Y + <usize>load<T>(ip + ib) * rowBytes;
    const y2 = Y + <usize>load<T>(ip + 2 * ib) * rowBytes;
    const y3 = Y + <usize>load<T>(ip + 3 * ib) * rowBytes;
    let a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    for (let d = 0; d < kp; d += 4) {
      const o = <usize>d << 2;
      const vv = v128.load(v + o);
      a0 = f32x4.add(a0, f32x4.mul(vv, v128.load(y0 + o)));
      a1 = f32x4.add(a1, f32x4.mul(vv, v128.load(y1 + o)));
      a2 = f32x4.add(a2, f32x4.mul(vv, v128.load(y2 + o)));
      a3 = f32x4.add(a3, f32x4.mul(vv, v128.load(y3 + o)));
    }
    const dots = hsum4(a0, a1, a2, a3);
    const w = weights != 0 ? v128.load(weights + (<usize>e << 2)) : uniformV;
    const aw = f32x4.abs(w);
    let t: v128;
    if (residual) {
      const b = v128.bitselect(f32x4.add(one, w), zero, f32x4.ge(w, zero));
      t = f32x4.sub(b, f32x4.mul(aw, dots));
    } else {
      t = f32x4.mul(aw, dots);
    }
    const t0 = v128.shuffle<f32>(t, t, 0, 0, 0, 0);
    const t1 = v128.shuffle<f32>(t, t, 1, 1, 1, 1);
    const t2 = v128.shuffle<f32>(t, t, 2, 2, 2, 2);
    const t3 = v128.shuffle<f32>(t, t, 3, 3, 3, 3);
    for (let d = 0; d < kp; d += 4) {
      const o = <usize>d << 2;
      let acc = v128.load(out + o);
      acc = f32x4.add(acc, f32x4.add(f32x4.mul(t0, v128.load(y0 + o)), f32x4.mul(t1, v128.load(y1 + o))));
      acc = f32x4.add(acc, f32x4.add(f32x4.mul(t2, v128.load(y2 + o)), f32x4.mul(t3, v128.load(y3 + o))));
      v128.store(out + o, acc);
    }
  }
  v128.store(sink, touch);
  for (; e < stop; e++) {
    const y = Y + <usize>load<T>(indices + <usize>e * ib) * rowBytes;
    const w = weightAt(weights, uniform, e);
    const s = dot(y, v, kp);
    const t: f32 = residual ? (w >= 0 ? 1 + w : 0) - Mathf.abs(w) * s : Mathf.abs(w) * s;
    axpy(t, y, out, kp);
  }
}

/** First and one-past-last entry of row u (either index layout). */
@inline function rowBegin(indptr: usize, nSeg: i32, u: i32): i32 {
  return load<i32>(indptr + (<usize>u * <usize>max(nSeg, 1) << 2));
}

/** `sparsePass` over all of row u's entries, segment by segment in the u16 layout. */
function rowSparse(
  u: i32, nSeg: i32, indptr: usize, indices: usize, weights: usize, uniform: f32,
  Y: usize, v: usize, out: usize, kp: i32, residual: bool, sink: usize,
): void {
  if (nSeg == 0) {
    const begin = load<i32>(indptr + (<usize>u << 2));
    const stop = load<i32>(indptr + (<usize>(u + 1) << 2));
    sparsePass<i32>(begin, stop, indices, weights, uniform, Y, v, out, kp, residual, sink);
    return;
  }
  const segBytes = SEGMENT * (<usize>kp << 2);
  let ptr = indptr + (<usize>u * <usize>nSeg << 2);
  for (let s = 0; s < nSeg; s++) {
    const begin = load<i32>(ptr);
    const stop = load<i32>(ptr, 4);
    if (begin < stop) sparsePass<u16>(begin, stop, indices, weights, uniform, Y + <usize>s * segBytes, v, out, kp, residual, sink);
    ptr += 4;
  }
}

/** Column of entry e of segment s (either index layout). */
@inline function columnAt(indices: usize, nSeg: i32, s: i32, e: i32): usize {
  return nSeg == 0 ? <usize>load<i32>(indices + (<usize>e << 2)) : <usize>s * SEGMENT + <usize>load<u16>(indices + (<usize>e << 1));
}

// ---------------------------------------------------------------------------------------------
// Gram matrix

/** out[kp×kp] += Σ_{r ∈ [start, end)} y_r·y_rᵀ over rows of Y (stride kp). Four rows per pass. */
export function gramAccumulate(Y: usize, start: i32, end: i32, kp: i32, out: usize): void {
  const rowBytes = <usize>kp << 2;
  let r = start;
  for (; r + 4 <= end; r += 4) {
    const y0 = Y + <usize>r * rowBytes;
    const y1 = y0 + rowBytes;
    const y2 = y1 + rowBytes;
    const y3 = y2 + rowBytes;
    let o = out;
    for (let a = 0; a < kp; a++) {
      const ao = <usize>a << 2;
      const s0 = v128.load32_splat(y0 + ao);
      const s1 = v128.load32_splat(y1 + ao);
      const s2 = v128.load32_splat(y2 + ao);
      const s3 = v128.load32_splat(y3 + ao);
      for (let d = 0; d < kp; d += 4) {
        const dd = <usize>d << 2;
        let acc = v128.load(o + dd);
        acc = f32x4.add(acc, f32x4.add(f32x4.mul(s0, v128.load(y0 + dd)), f32x4.mul(s1, v128.load(y1 + dd))));
        acc = f32x4.add(acc, f32x4.add(f32x4.mul(s2, v128.load(y2 + dd)), f32x4.mul(s3, v128.load(y3 + dd))));
        v128.store(o + dd, acc);
      }
      o += rowBytes;
    }
  }
  for (; r < end; r++) {
    const y0 = Y + <usize>r * rowBytes;
    let o = out;
    for (let a = 0; a < kp; a++) {
      const s0 = v128.load32_splat(y0 + (<usize>a << 2));
      for (let d = 0; d < kp; d += 4) {
        const dd = <usize>d << 2;
        v128.store(o + dd, f32x4.add(v128.load(o + dd), f32x4.mul(s0, v128.load(y0 + dd))));
      }
      o += rowBytes;
    }
  }
}

/**
 * Partial Gram matrices over fixed row chunks: for each chunk c in [cStart, cEnd), partials[c] =
 * Σ y_r y_rᵀ over rows [c·rowsPerChunk, min(nRows, (c+1)·rowsPerChunk)). The caller sums the
 * partials in chunk order, so the result never depends on how chunks were spread over threads.
 */
export function gramChunks(cStart: i32, cEnd: i32, Y: usize, nRows: i32, rowsPerChunk: i32, kp: i32, partials: usize): void {
  const bytes = <usize>kp * <usize>kp * 4;
  for (let c = cStart; c < cEnd; c++) {
    const out = partials + <usize>c * bytes;
    memory.fill(out, 0, bytes);
    gramAccumulate(Y, c * rowsPerChunk, min(nRows, (c + 1) * rowsPerChunk), kp, out);
  }
}

// ---------------------------------------------------------------------------------------------
// Conjugate-gradient half-sweep (implicit's least_squares_cg)

/**
 * For each row u in [start, end): x_u ← `steps` CG iterations on (G + λ_u I + Σ_i (c_ui − 1) y_i y_iᵀ) x
 * = Σ_i c_ui p_ui y_i, warm-started from the current x_u. Rows without entries get x_u = 0.
 * `regs` holds λ_u per row (f32). `scratch` needs 3·kp floats (r, p, Ap) private to the caller.
 */
export function cgRange(
  start: i32, end: i32,
  indptr: usize, indices: usize, nSeg: i32, weights: usize, uniform: f32,
  X: usize, Y: usize, G: usize, regs: usize,
  kp: i32, steps: i32, scratch: usize,
): void {
  const rowBytes = <usize>kp << 2;
  const r = scratch;
  const p = r + rowBytes;
  const Ap = p + rowBytes;
  for (let u = start; u < end; u++) {
    const x = X + <usize>u * rowBytes;
    const begin = rowBegin(indptr, nSeg, u);
    const stop = rowBegin(indptr, nSeg, u + 1);
    if (begin == stop) {
      memory.fill(x, 0, rowBytes);
      continue;
    }
    const lambda = load<f32>(regs + (<usize>u << 2));
    // r = b − A·x = Σ_i [c_i p_i − (c_i − 1)(y_i·x)] y_i − (G + λI)·x
    symv(G, x, lambda, r, kp);
    for (let d = 0; d < kp; d += 4) {
      const o = <usize>d << 2;
      v128.store(r + o, f32x4.neg(v128.load(r + o)));
    }
    rowSparse(u, nSeg, indptr, indices, weights, uniform, Y, x, r, kp, true, Ap + rowBytes);
    memory.copy(p, r, rowBytes);
    let rsold = dot(r, r, kp);
    if (rsold < 1e-20) continue;
    // Rows whose entries all have c = 1 need no sparse correction in A·p (only in b).
    let hasWeight = weights == 0 && uniform != 0;
    for (let e = begin; e < stop && weights != 0; e++) {
      if (load<f32>(weights + (<usize>e << 2)) != 0) {
        hasWeight = true;
        break;
      }
    }
    for (let it = 0; it < steps; it++) {
      symv(G, p, lambda, Ap, kp);
      if (hasWeight) rowSparse(u, nSeg, indptr, indices, weights, uniform, Y, p, Ap, kp, false, Ap + rowBytes);
      const alpha = rsold / dot(p, Ap, kp);
      axpy(alpha, p, x, kp);
      axpy(-alpha, Ap, r, kp);
      const rsnew = dot(r, r, kp);
      if (rsnew < 1e-20) break;
      // p = r + (rsnew / rsold)·p
      const beta = f32x4.splat(rsnew / rsold);
      for (let d = 0; d < kp; d += 4) {
        const o = <usize>d << 2;
        v128.store(p + o, f32x4.add(v128.load(r + o), f32x4.mul(beta, v128.load(p + o))));
      }
      rsold = rsnew;
    }
  }
}

/**
 * Exact solve of the same normal equations for rows [start, end) (the reference solver):
 * A = G + λ_u I + Σ_i (c_ui − 1) y_i y_iᵀ accumulated with SIMD in f32, then a float64 Cholesky
 * factorisation and two triangular solves. Scratch: kp²·4 + kp²·8 + kp·8 bytes. Returns the
 * number of rows whose matrix was not positive definite (left unchanged).
 */
export function choleskyRange(
  start: i32, end: i32,
  indptr: usize, indices: usize, nSeg: i32, weights: usize, uniform: f32,
  X: usize, Y: usize, G: usize, regs: usize,
  kp: i32, scratch: usize,
): i32 {
  const rowBytes = <usize>kp << 2;
  const S = scratch;                                   // f32 kp×kp: Σ |w| y yᵀ
  const A = S + <usize>kp * rowBytes;                  // f64 kp×kp
  const b = A + (<usize>kp * rowBytes << 1);           // f64 kp
  let failures = 0;
  for (let u = start; u < end; u++) {
    const x = X + <usize>u * rowBytes;
    if (rowBegin(indptr, nSeg, u) == rowBegin(indptr, nSeg, u + 1)) {
      memory.fill(x, 0, rowBytes);
      continue;
    }
    memory.fill(S, 0, <usize>kp * rowBytes);
    for (let d = 0; d < kp; d++) store<f64>(b + (<usize>d << 3), 0);
    const segs = max(nSeg, 1);
    for (let sg = 0; sg < segs; sg++) {
      const segPtr = indptr + ((<usize>u * <usize>segs + <usize>sg) << 2);
      for (let e = load<i32>(segPtr), stop = load<i32>(segPtr, 4); e < stop; e++) {
        const y = Y + columnAt(indices, nSeg, sg, e) * rowBytes;
        const w = weightAt(weights, uniform, e);
        const bw: f64 = w >= 0 ? 1 + <f64>w : 0;
        const aw = Mathf.abs(w);
        let o = S;
        for (let a = 0; a < kp; a++) {
          const ya = load<f32>(y + (<usize>a << 2));
          store<f64>(b + (<usize>a << 3), load<f64>(b + (<usize>a << 3)) + bw * <f64>ya);
          const t = f32x4.splat(aw * ya);
          for (let d = 0; d < kp; d += 4) {
            const dd = <usize>d << 2;
            v128.store(o + dd, f32x4.add(v128.load(o + dd), f32x4.mul(t, v128.load(y + dd))));
          }
          o += rowBytes;
        }
      }
    }
    const lambda = <f64>load<f32>(regs + (<usize>u << 2));
    const n = <usize>kp;
    for (let i: usize = 0; i < n * n; i++) {
      store<f64>(A + (i << 3), <f64>load<f32>(G + (i << 2)) + <f64>load<f32>(S + (i << 2)));
    }
    for (let i: usize = 0; i < n; i++) store<f64>(A + ((i * n + i) << 3), load<f64>(A + ((i * n + i) << 3)) + lambda);
    let ok = true;
    for (let j: usize = 0; j < n && ok; j++) {
      const jr = A + ((j * n) << 3);
      let s = load<f64>(jr + (j << 3));
      for (let k: usize = 0; k < j; k++) { const l = load<f64>(jr + (k << 3)); s -= l * l; }
      if (!(s > 0)) { ok = false; break; }
      const ljj = Math.sqrt(s);
      store<f64>(jr + (j << 3), ljj);
      for (let i = j + 1; i < n; i++) {
        const ir = A + ((i * n) << 3);
        let t = load<f64>(ir + (j << 3));
        for (let k: usize = 0; k < j; k++) t -= load<f64>(ir + (k << 3)) * load<f64>(jr + (k << 3));
        store<f64>(ir + (j << 3), t / ljj);
      }
    }
    if (!ok) { failures++; continue; }
    for (let i: usize = 0; i < n; i++) {
      const ir = A + ((i * n) << 3);
      let t = load<f64>(b + (i << 3));
      for (let k: usize = 0; k < i; k++) t -= load<f64>(ir + (k << 3)) * load<f64>(b + (k << 3));
      store<f64>(b + (i << 3), t / load<f64>(ir + (i << 3)));
    }
    for (let i = <isize>n - 1; i >= 0; i--) {
      let t = load<f64>(b + (<usize>i << 3));
      for (let k = <usize>i + 1; k < n; k++) t -= load<f64>(A + ((k * n + <usize>i) << 3)) * load<f64>(b + (k << 3));
      store<f64>(b + (<usize>i << 3), t / load<f64>(A + ((<usize>i * n + <usize>i) << 3)));
    }
    for (let d: usize = 0; d < n; d++) store<f32>(x + (d << 2), <f32>load<f64>(b + (d << 3)));
  }
  return failures;
}

/**
 * Per-row part of the objective, written to out[u] (f64):
 * x_uᵀ G x_u + Σ_i [c_ui (p_ui − s)² − s²] + λ_u ‖x_u‖², with s = x_u·y_i and G = YᵀY, so the
 * sum over rows plus Σ_i λ_i ‖y_i‖² is Σ_{u,i} c_ui (p_ui − x_u·y_i)² + regularisation.
 */
export function lossRange(
  start: i32, end: i32,
  indptr: usize, indices: usize, nSeg: i32, weights: usize, uniform: f32,
  X: usize, Y: usize, G: usize, regs: usize,
  kp: i32, scratch: usize, out: usize,
): void {
  const rowBytes = <usize>kp << 2;
  for (let u = start; u < end; u++) {
    const x = X + <usize>u * rowBytes;
    const lambda = load<f32>(regs + (<usize>u << 2));
    symv(G, x, 0, scratch, kp);
    let loss: f64 = <f64>dot(scratch, x, kp) + <f64>lambda * <f64>dot(x, x, kp);
    const segs = max(nSeg, 1);
    for (let sg = 0; sg < segs; sg++) {
      const segPtr = indptr + ((<usize>u * <usize>segs + <usize>sg) << 2);
      for (let e = load<i32>(segPtr), stop = load<i32>(segPtr, 4); e < stop; e++) {
        const y = Y + columnAt(indices, nSeg, sg, e) * rowBytes;
        const w = weightAt(weights, uniform, e);
        const s: f64 = <f64>dot(y, x, kp);
        const c: f64 = 1 + <f64>Mathf.abs(w);
        const pref: f64 = w >= 0 ? 1 : 0;
        loss += c * (pref - s) * (pref - s) - s * s;
      }
    }
    store<f64>(out + (<usize>u << 3), loss);
  }
}

// ---------------------------------------------------------------------------------------------
// Batched scoring + top-k

const QUERY_BLOCK: i32 = 64; // queries kept hot while item tiles stream past (64 × kp floats)
const TILE_PANELS: i32 = 48; // 384 items per tile: 48 panels × kp × 32 bytes ≈ 96 KiB at kp = 64

// Per-query heap state in scratch: [K scores f32][K items i32] per query, then sizes, cursors, thresholds.

@inline function worse<T>(s1: T, i1: i32, s2: T, i2: i32): bool {
  return s1 < s2 || (s1 == s2 && i1 > i2);
}

/** Push (item, score) into a bounded min-heap of K (root = worst kept); returns the new size. T is f32 or i32. */
function heapPush<T>(hs: usize, hi: usize, size: i32, K: i32, item: i32, score: T): i32 {
  if (size < K) {
    let c = size;
    while (c > 0) {
      const par = (c - 1) >> 1;
      const ps = load<T>(hs + (<usize>par << 2));
      const pi = load<i32>(hi + (<usize>par << 2));
      if (!worse<T>(score, item, ps, pi)) break;
      store<T>(hs + (<usize>c << 2), ps);
      store<i32>(hi + (<usize>c << 2), pi);
      c = par;
    }
    store<T>(hs + (<usize>c << 2), score);
    store<i32>(hi + (<usize>c << 2), item);
    return size + 1;
  }
  if (!worse<T>(load<T>(hs), load<i32>(hi), score, item)) return size;
  let c = 0;
  for (;;) {
    const l = 2 * c + 1;
    if (l >= size) break;
    let m = l;
    const rr = l + 1;
    if (rr < size && worse<T>(load<T>(hs + (<usize>rr << 2)), load<i32>(hi + (<usize>rr << 2)), load<T>(hs + (<usize>l << 2)), load<i32>(hi + (<usize>l << 2)))) m = rr;
    const ms = load<T>(hs + (<usize>m << 2));
    const mi = load<i32>(hi + (<usize>m << 2));
    if (!worse<T>(ms, mi, score, item)) break;
    store<T>(hs + (<usize>c << 2), ms);
    store<i32>(hi + (<usize>c << 2), mi);
    c = m;
  }
  store<T>(hs + (<usize>c << 2), score);
  store<i32>(hi + (<usize>c << 2), item);
  return size;
}

/**
 * Offer the 8 scores of one panel (in `buf`) to query q's heap. Items ≥ nItems (panel padding)
 * and items in the query's sorted exclusion row are skipped; the cursor walks the row once
 * because items arrive in ascending order. State: size, cursor, row end, threshold (the heap's
 * worst score once full, `lowest` before).
 */
function offerPanel<T>(
  buf: usize, firstItem: i32, nItems: i32, K: i32,
  hs: usize, hi: usize, state: usize, exclIndices: usize, lowest: T,
): void {
  let size = load<i32>(state);
  let cursor = load<i32>(state, 4);
  const stop = load<i32>(state, 8);
  let thr = load<T>(state, 12);
  for (let j = 0; j < 8; j++) {
    const item = firstItem + j;
    if (item >= nItems) break;
    const s = load<T>(buf + (<usize>j << 2));
    if (!(s > thr)) continue;
    while (cursor < stop && load<i32>(exclIndices + (<usize>cursor << 2)) < item) cursor++;
    if (cursor < stop && load<i32>(exclIndices + (<usize>cursor << 2)) == item) continue;
    size = heapPush<T>(hs, hi, size, K, item, s);
    thr = size < K ? lowest : load<T>(hs);
  }
  store<i32>(state, size);
  store<i32>(state, cursor, 4);
  store<T>(state, thr, 12);
}

/**
 * Top-K items for queries q ∈ [start, end): query vectors Q (stride kp), item panels P
 * (nPanels = ceil(nItems/8)), exclusions as a CSR over queries (exclIndptr has one entry per query
 * + 1, rows sorted ascending). Writes outItems/outScores rows of K (best first; ties → smaller
 * item; padded with −1/−∞). Scratch: QUERY_BLOCK·(2K + 4)·4 + 128 bytes.
 */
export function topkRange(
  start: i32, end: i32,
  Q: usize, P: usize, nItems: i32, kp: i32, K: i32,
  exclIndptr: usize, exclIndices: usize,
  outItems: usize, outScores: usize, scratch: usize,
): void {
  const rowBytes = <usize>kp << 2;
  const panelBytes = rowBytes << 3;
  const nPanels = (nItems + 7) >> 3;
  const heapBytes = <usize>K << 2;
  const heaps = scratch + 128; // buf (128 bytes) first: 4 queries × 8 scores
  const states = heaps + <usize>QUERY_BLOCK * heapBytes * 2;
  const buf = scratch;
  for (let qb = start; qb < end; qb += QUERY_BLOCK) {
    const nq = min(QUERY_BLOCK, end - qb);
    for (let j = 0; j < nq; j++) {
      const st = states + (<usize>j << 4);
      store<i32>(st, 0);
      store<i32>(st, load<i32>(exclIndptr + (<usize>(qb + j) << 2)), 4);
      store<i32>(st, load<i32>(exclIndptr + (<usize>(qb + j + 1) << 2)), 8);
      store<f32>(st, K > 0 ? -Infinity : Infinity, 12);
    }
    for (let t0 = 0; t0 < nPanels; t0 += TILE_PANELS) {
      const t1 = min(nPanels, t0 + TILE_PANELS);
      for (let g = 0; g < nq; g += 4) {
        const ng = min(4, nq - g);
        // Rows past the block's end reuse the last query (their results are dropped).
        const q0 = Q + <usize>(qb + g) * rowBytes;
        const q1 = ng > 1 ? q0 + rowBytes : q0;
        const q2 = ng > 2 ? q0 + rowBytes * 2 : q0;
        const q3 = ng > 3 ? q0 + rowBytes * 3 : q0;
        const st0 = states + (<usize>g << 4);
        let th0 = f32x4.splat(load<f32>(st0, 12));
        let th1 = f32x4.splat(ng > 1 ? load<f32>(st0, 28) : Infinity);
        let th2 = f32x4.splat(ng > 2 ? load<f32>(st0, 44) : Infinity);
        let th3 = f32x4.splat(ng > 3 ? load<f32>(st0, 60) : Infinity);
        for (let pq = t0; pq < t1; pq++) {
          let panel = P + <usize>pq * panelBytes;
          let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
          let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
          for (let d = 0; d < kp; d++) {
            const y0 = v128.load(panel, 0);
            const y1 = v128.load(panel, 16);
            const dd = <usize>d << 2;
            let s = v128.load32_splat(q0 + dd);
            c00 = f32x4.add(c00, f32x4.mul(s, y0));
            c01 = f32x4.add(c01, f32x4.mul(s, y1));
            s = v128.load32_splat(q1 + dd);
            c10 = f32x4.add(c10, f32x4.mul(s, y0));
            c11 = f32x4.add(c11, f32x4.mul(s, y1));
            s = v128.load32_splat(q2 + dd);
            c20 = f32x4.add(c20, f32x4.mul(s, y0));
            c21 = f32x4.add(c21, f32x4.mul(s, y1));
            s = v128.load32_splat(q3 + dd);
            c30 = f32x4.add(c30, f32x4.mul(s, y0));
            c31 = f32x4.add(c31, f32x4.mul(s, y1));
            panel += 32;
          }
          const first = pq << 3;
          const hit0 = v128.any_true(v128.or(f32x4.gt(c00, th0), f32x4.gt(c01, th0)));
          const hit1 = v128.any_true(v128.or(f32x4.gt(c10, th1), f32x4.gt(c11, th1)));
          const hit2 = v128.any_true(v128.or(f32x4.gt(c20, th2), f32x4.gt(c21, th2)));
          const hit3 = v128.any_true(v128.or(f32x4.gt(c30, th3), f32x4.gt(c31, th3)));
          if (hit0 | hit1 | hit2 | hit3) {
            v128.store(buf, c00, 0); v128.store(buf, c01, 16);
            v128.store(buf, c10, 32); v128.store(buf, c11, 48);
            v128.store(buf, c20, 64); v128.store(buf, c21, 80);
            v128.store(buf, c30, 96); v128.store(buf, c31, 112);
            if (hit0) {
              const j = g;
              offerPanel<f32>(buf, first, nItems, K, heaps + <usize>j * heapBytes * 2, heaps + <usize>j * heapBytes * 2 + heapBytes, states + (<usize>j << 4), exclIndices, -Infinity);
              th0 = f32x4.splat(load<f32>(states + (<usize>j << 4), 12));
            }
            if (hit1) {
              const j = g + 1;
              offerPanel<f32>(buf + 32, first, nItems, K, heaps + <usize>j * heapBytes * 2, heaps + <usize>j * heapBytes * 2 + heapBytes, states + (<usize>j << 4), exclIndices, -Infinity);
              th1 = f32x4.splat(load<f32>(states + (<usize>j << 4), 12));
            }
            if (hit2) {
              const j = g + 2;
              offerPanel<f32>(buf + 64, first, nItems, K, heaps + <usize>j * heapBytes * 2, heaps + <usize>j * heapBytes * 2 + heapBytes, states + (<usize>j << 4), exclIndices, -Infinity);
              th2 = f32x4.splat(load<f32>(states + (<usize>j << 4), 12));
            }
            if (hit3) {
              const j = g + 3;
              offerPanel<f32>(buf + 96, first, nItems, K, heaps + <usize>j * heapBytes * 2, heaps + <usize>j * heapBytes * 2 + heapBytes, states + (<usize>j << 4), exclIndices, -Infinity);
              th3 = f32x4.splat(load<f32>(states + (<usize>j << 4), 12));
            }
          }
        }
      }
    }
    // Drain: sort each heap best-first (insertion sort; K is small) into the output rows.
    for (let j = 0; j < nq; j++) {
      const hs = heaps + <usize>j * heapBytes * 2;
      const hi = hs + heapBytes;
      const size = load<i32>(states + (<usize>j << 4));
      for (let a = 1; a < size; a++) {
        const s = load<f32>(hs + (<usize>a << 2));
        const it = load<i32>(hi + (<usize>a << 2));
        let b = a - 1;
        while (b >= 0 && worse<f32>(load<f32>(hs + (<usize>b << 2)), load<i32>(hi + (<usize>b << 2)), s, it)) {
          store<f32>(hs + (<usize>(b + 1) << 2), load<f32>(hs + (<usize>b << 2)));
          store<i32>(hi + (<usize>(b + 1) << 2), load<i32>(hi + (<usize>b << 2)));
          b--;
        }
        store<f32>(hs + (<usize>(b + 1) << 2), s);
        store<i32>(hi + (<usize>(b + 1) << 2), it);
      }
      const oi = outItems + <usize>(qb + j) * heapBytes;
      const os = outScores + <usize>(qb + j) * heapBytes;
      for (let a = 0; a < K; a++) {
        if (a < size) {
          store<i32>(oi + (<usize>a << 2), load<i32>(hi + (<usize>a << 2)));
          store<f32>(os + (<usize>a << 2), load<f32>(hs + (<usize>a << 2)));
        } else {
          store<i32>(oi + (<usize>a << 2), -1);
          store<f32>(os + (<usize>a << 2), -Infinity);
        }
      }
    }
  }
}

/** Scratch bytes topkRange needs for a given K. */
export function topkScratchBytes(K: i32): i32 {
  return 128 + QUERY_BLOCK * K * 8 + QUERY_BLOCK * 16;
}

// ---------------------------------------------------------------------------------------------
// Quantised scoring with exact re-ranking (large batches, e.g. recommend-all)

const INT_LOWEST: i32 = -2147483648;

/** The f32 score the f32 kernel computes for (query q, item): Σ_d q_d·y_d summed in d order, mul then add. */
@inline function exactScore(q: usize, P: usize, item: i32, kp: i32): f32 {
  let y = P + ((<usize>(item >> 3) * <usize>kp * 8 + <usize>(item & 7)) << 2);
  let acc: f32 = 0;
  for (let d = 0; d < kp; d++) {
    acc = acc + load<f32>(q + (<usize>d << 2)) * load<f32>(y);
    y += 32;
  }
  return acc;
}

/**
 * Top-K like `topkRange`, with the full scan in 16-bit integers and an exact f32 re-ranking,
 * giving exactly `topkRange`'s output (same items, same float scores, same tie order):
 *
 *  1. Queries are quantised per query (scale s_q = max|q|/maxq) and items globally (s_y, panels
 *     in P16: per dimension pair, 8 items × 2 int16), so ŝ = s_q·s_y·Σ q̂_d ŷ_d is computed with
 *     i32x4.dot_i16x8_s: 8 multiply-adds per instruction, twice the f32 rate.
 *  2. The KC best by ŝ are re-scored exactly (f32, in the f32 kernel's order) and the best K kept.
 *  3. Proof check: every other item has ŝ ≤ A (the KC-th ŝ), and |s − ŝ| ≤ E_q with
 *     E_q = ‖q‖₁·s_y/2 + max_i‖ŷ_i‖₁·s_q/2 (rounding to nearest) + the f32 summation error, so if
 *     the K-th exact score beats s_q·s_y·A + E_q no other item can enter the list. Otherwise (rare:
 *     near-ties at the cut) the query is re-run exactly with the f32 kernel.
 *
 * Returns the number of queries that needed the f32 re-run. Scratch: topkQScratchBytes(K, KC, kp).
 */
export function topkRangeQ(
  start: i32, end: i32,
  Q: usize, P: usize, P16: usize, nItems: i32, kp: i32, K: i32, KC: i32,
  exclIndptr: usize, exclIndices: usize,
  outItems: usize, outScores: usize, scratch: usize,
  sy: f32, yAbsMax: f32, y1Max: f32, maxq: i32,
): i32 {
  const rowBytes = <usize>kp << 2;
  const kpairs = kp >> 1;
  const q16Bytes = <usize>kp << 1;
  const panelBytes = <usize>kpairs << 5;
  const nPanels = (nItems + 7) >> 3;
  const heapBytes = <usize>KC << 2;
  const buf = scratch;                                                  // 4 queries × 8 i32
  const q16 = buf + 128;                                                // QUERY_BLOCK × kp int16
  const qinfo = q16 + <usize>QUERY_BLOCK * q16Bytes;                    // per query: s_q (f64), E (f64)
  const heaps = qinfo + <usize>QUERY_BLOCK * 16;                        // per query: KC i32 + KC items
  const states = heaps + <usize>QUERY_BLOCK * heapBytes * 2;            // per query: 16 bytes
  const cand = states + <usize>QUERY_BLOCK * 16;                        // KC × (f32 score, i32 item)
  const fscratch = cand + (heapBytes << 1);                             // for the f32 re-run
  let reruns = 0;
  if (K <= 0) return 0;
  for (let qb = start; qb < end; qb += QUERY_BLOCK) {
    const nq = min(QUERY_BLOCK, end - qb);
    for (let j = 0; j < nq; j++) {
      const q = Q + <usize>(qb + j) * rowBytes;
      let amax: f32 = 0;
      let l1: f64 = 0;
      for (let d = 0; d < kp; d++) {
        const a = Mathf.abs(load<f32>(q + (<usize>d << 2)));
        amax = max(amax, a);
        l1 += <f64>a;
      }
      const sq: f32 = amax / <f32>maxq;
      const out = q16 + <usize>j * q16Bytes;
      for (let d = 0; d < kp; d++) {
        const v: i32 = sq > 0 ? <i32>nearest(load<f32>(q + (<usize>d << 2)) / sq) : 0;
        store<i16>(out + (<usize>d << 1), <i16>max(-maxq, min(maxq, v)));
      }
      // 1% slack covers the rounding of q/s_q in f32; 2⁻²³·kp·‖q‖₁·max|y| bounds the f32 summation error.
      const E: f64 = (l1 * <f64>sy * 0.5 + <f64>y1Max * <f64>sq * 0.5) * 1.01 + <f64>kp * 1.1920928955078125e-7 * l1 * <f64>yAbsMax;
      store<f64>(qinfo + (<usize>j << 4), <f64>sq);
      store<f64>(qinfo + (<usize>j << 4), E, 8);
      const st = states + (<usize>j << 4);
      store<i32>(st, 0);
      store<i32>(st, load<i32>(exclIndptr + (<usize>(qb + j) << 2)), 4);
      store<i32>(st, load<i32>(exclIndptr + (<usize>(qb + j + 1) << 2)), 8);
      store<i32>(st, INT_LOWEST, 12);
    }
    for (let t0 = 0; t0 < nPanels; t0 += TILE_PANELS * 2) {
      const t1 = min(nPanels, t0 + TILE_PANELS * 2);
      for (let g = 0; g < nq; g += 4) {
        const ng = min(4, nq - g);
        const q0 = q16 + <usize>g * q16Bytes;
        const q1 = ng > 1 ? q0 + q16Bytes : q0;
        const q2 = ng > 2 ? q0 + q16Bytes * 2 : q0;
        const q3 = ng > 3 ? q0 + q16Bytes * 3 : q0;
        const st0 = states + (<usize>g << 4);
        // Padding rows get an unreachable threshold (the i32 maximum).
        let th0 = i32x4.splat(load<i32>(st0, 12));
        let th1 = i32x4.splat(ng > 1 ? load<i32>(st0, 28) : i32.MAX_VALUE);
        let th2 = i32x4.splat(ng > 2 ? load<i32>(st0, 44) : i32.MAX_VALUE);
        let th3 = i32x4.splat(ng > 3 ? load<i32>(st0, 60) : i32.MAX_VALUE);
        for (let pq = t0; pq < t1; pq++) {
          let panel = P16 + <usize>pq * panelBytes;
          let c00 = i32x4.splat(0), c01 = i32x4.splat(0), c10 = i32x4.splat(0), c11 = i32x4.splat(0);
          let c20 = i32x4.splat(0), c21 = i32x4.splat(0), c30 = i32x4.splat(0), c31 = i32x4.splat(0);
          for (let d = 0; d < kpairs; d++) {
            const y0 = v128.load(panel, 0);
            const y1 = v128.load(panel, 16);
            const dd = <usize>d << 2;
            let s = v128.load32_splat(q0 + dd);
            c00 = i32x4.add(c00, i32x4.dot_i16x8_s(s, y0));
            c01 = i32x4.add(c01, i32x4.dot_i16x8_s(s, y1));
            s = v128.load32_splat(q1 + dd);
            c10 = i32x4.add(c10, i32x4.dot_i16x8_s(s, y0));
            c11 = i32x4.add(c11, i32x4.dot_i16x8_s(s, y1));
            s = v128.load32_splat(q2 + dd);
            c20 = i32x4.add(c20, i32x4.dot_i16x8_s(s, y0));
            c21 = i32x4.add(c21, i32x4.dot_i16x8_s(s, y1));
            s = v128.load32_splat(q3 + dd);
            c30 = i32x4.add(c30, i32x4.dot_i16x8_s(s, y0));
            c31 = i32x4.add(c31, i32x4.dot_i16x8_s(s, y1));
            panel += 32;
          }
          const first = pq << 3;
          const hit0 = v128.any_true(v128.or(i32x4.gt_s(c00, th0), i32x4.gt_s(c01, th0)));
          const hit1 = v128.any_true(v128.or(i32x4.gt_s(c10, th1), i32x4.gt_s(c11, th1)));
          const hit2 = v128.any_true(v128.or(i32x4.gt_s(c20, th2), i32x4.gt_s(c21, th2)));
          const hit3 = v128.any_true(v128.or(i32x4.gt_s(c30, th3), i32x4.gt_s(c31, th3)));
          if (hit0 | hit1 | hit2 | hit3) {
            v128.store(buf, c00, 0); v128.store(buf, c01, 16);
            v128.store(buf, c10, 32); v128.store(buf, c11, 48);
            v128.store(buf, c20, 64); v128.store(buf, c21, 80);
            v128.store(buf, c30, 96); v128.store(buf, c31, 112);
            if (hit0) {
              const j = g;
              offerPanel<i32>(buf, first, nItems, KC, heaps + <usize>j * heapBytes * 2, heaps + <usize>j * heapBytes * 2 + heapBytes, states + (<usize>j << 4), exclIndices, INT_LOWEST);
              th0 = i32x4.splat(load<i32>(states + (<usize>j << 4), 12));
            }
            if (hit1) {
              const j = g + 1;
              offerPanel<i32>(buf + 32, first, nItems, KC, heaps + <usize>j * heapBytes * 2, heaps + <usize>j * heapBytes * 2 + heapBytes, states + (<usize>j << 4), exclIndices, INT_LOWEST);
              th1 = i32x4.splat(load<i32>(states + (<usize>j << 4), 12));
            }
            if (hit2) {
              const j = g + 2;
              offerPanel<i32>(buf + 64, first, nItems, KC, heaps + <usize>j * heapBytes * 2, heaps + <usize>j * heapBytes * 2 + heapBytes, states + (<usize>j << 4), exclIndices, INT_LOWEST);
              th2 = i32x4.splat(load<i32>(states + (<usize>j << 4), 12));
            }
            if (hit3) {
              const j = g + 3;
              offerPanel<i32>(buf + 96, first, nItems, KC, heaps + <usize>j * heapBytes * 2, heaps + <usize>j * heapBytes * 2 + heapBytes, states + (<usize>j << 4), exclIndices, INT_LOWEST);
              th3 = i32x4.splat(load<i32>(states + (<usize>j << 4), 12));
            }
          }
        }
      }
    }
    // Exact re-ranking of each query's candidates, then the proof check.
    for (let j = 0; j < nq; j++) {
      const qi = qb + j;
      const q = Q + <usize>qi * rowBytes;
      const hs = heaps + <usize>j * heapBytes * 2;
      const hi = hs + heapBytes;
      const size = load<i32>(states + (<usize>j << 4));
      const cs = cand;
      const ci = cand + heapBytes;
      for (let c = 0; c < size; c++) {
        const item = load<i32>(hi + (<usize>c << 2));
        const s = exactScore(q, P, item, kp);
        // Insertion into the sorted candidate list (best first; ties → smaller item).
        let b = c - 1;
        while (b >= 0 && worse<f32>(load<f32>(cs + (<usize>b << 2)), load<i32>(ci + (<usize>b << 2)), s, item)) {
          store<f32>(cs + (<usize>(b + 1) << 2), load<f32>(cs + (<usize>b << 2)));
          store<i32>(ci + (<usize>(b + 1) << 2), load<i32>(ci + (<usize>b << 2)));
          b--;
        }
        store<f32>(cs + (<usize>(b + 1) << 2), s);
        store<i32>(ci + (<usize>(b + 1) << 2), item);
      }
      // With a full candidate heap some items were left out: they score at most s_q·s_y·A + E.
      let proven = true;
      if (size >= KC) {
        const A = load<i32>(hs); // heap root: the lowest ŝ kept
        const bound = load<f64>(qinfo + (<usize>j << 4)) * <f64>sy * <f64>A + load<f64>(qinfo + (<usize>j << 4), 8);
        proven = K <= size && <f64>load<f32>(cs + (<usize>(K - 1) << 2)) > bound;
      }
      if (!proven) {
        reruns++;
        topkRange(qi, qi + 1, Q, P, nItems, kp, K, exclIndptr, exclIndices, outItems, outScores, fscratch);
        continue;
      }
      const oi = outItems + <usize>qi * (<usize>K << 2);
      const os = outScores + <usize>qi * (<usize>K << 2);
      for (let a = 0; a < K; a++) {
        if (a < size) {
          store<i32>(oi + (<usize>a << 2), load<i32>(ci + (<usize>a << 2)));
          store<f32>(os + (<usize>a << 2), load<f32>(cs + (<usize>a << 2)));
        } else {
          store<i32>(oi + (<usize>a << 2), -1);
          store<f32>(os + (<usize>a << 2), -Infinity);
        }
      }
    }
  }
  return reruns;
}

/** Scratch bytes topkRangeQ needs. */
export function topkQScratchBytes(K: i32, KC: i32, kp: i32): i32 {
  return 128 + QUERY_BLOCK * kp * 2 + QUERY_BLOCK * 16 + QUERY_BLOCK * KC * 8 + QUERY_BLOCK * 16 + KC * 8 + topkScratchBytes(K) + 64;
}
