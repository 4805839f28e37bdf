/**
 * Batch-side capacity from the scaling benchmark (`recsys bench capacity --scale scale.json`):
 * the design's 100M users × 10M items × 1B interactions, projected from the largest measured size
 * with the fitted exponents (cost.ts), every line printed with its arithmetic.
 *
 *   nnz            = interactions × pairs-per-event (measured at the anchor size, unless given)
 *   ALS core-s/it  = CPU s/iteration at the anchor × (nnz / nnz₀)^b_nnz, and likewise with
 *                    (users + items) and b_rows; the larger of the two is used (both terms exist:
 *                    Σ nnz·f work for the Gram corrections, Σ rows·f² for the CG solves)
 *   ALS memory     = (CSR + factors) at the target × the anchor's (ALS peak RSS ÷ (CSR + factors));
 *                    CSR = nnz · 16 B (indices + values, both orientations), factors = (U + I)·f·4 B
 *   recommend-all  = users × (CPU seconds per sampled user at I₀ items) × (I / I₀): scoring is linear
 *                    in the catalogue (exact top-k over every item)
 *   precompute     = the same with the measured precompute rate (ranking + reasons + Redis writes)
 *   stages on events (synth, ingest, matrix) = CPU seconds at the anchor × (E / E₀)^b
 * CPU seconds (process-wide, all threads) rather than wall: the benchmark machine is shared, and
 * CPU time is what a dedicated machine of the same kind would spend.
 */
import { RecsysError } from '../errors.js';
import type { CapacityRow } from '../serving/capacity.js';
import type { ScaleReport } from './benchmark.js';
import { findFit } from './cost.js';
import { GiB } from './measure.js';
import type { ScaleSizeResult } from './size-run.js';

export interface ScaleTarget {
  users: number;
  items: number;
  interactions: number;
  factors: number;
  /** Distinct (user, item) pairs per event; default: measured at the anchor size. */
  pairsPerEvent?: number;
  /** Cores of the training / batch cluster the hours are divided by. */
  clusterCores: number;
  /** Memory of the one bigger box being considered (GiB). */
  boxMemoryGiB: number;
}

export interface ScaleProjection {
  rows: CapacityRow[];
  anchor: string;
  nnz: number;
  alsCoreSecondsPerIteration: number;
  alsMemoryBytes: number;
  recommendAllCoreHours: number;
  precomputeCoreHours: number;
  fitsOneBox: boolean;
}

const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const gib = (b: number): string => `${fmt(b / GiB, 1)} GiB`;
const hours = (s: number): string => (s >= 3600 ? `${fmt(s / 3600, 1)} h` : s >= 60 ? `${fmt(s / 60, 1)} min` : `${fmt(s, 1)} s`);

function anchorOf(report: ScaleReport): ScaleSizeResult {
  if (report.results.length === 0) throw new RecsysError('RECSYS_ERR_USAGE', 'the scale report has no finished size: run `npm run bench:scale` first', { flag: '--scale' });
  return report.results.reduce((a, b) => (b.events > a.events ? b : a));
}

export function projectScale(report: ScaleReport, target: ScaleTarget): ScaleProjection {
  const a = anchorOf(report);
  const cores = report.machine.cpus;
  const f = target.factors;
  const ppe = target.pairsPerEvent ?? a.matrix.nnz / a.events;
  const nnz = target.interactions * ppe;
  const rows0 = a.matrix.users + a.matrix.items;
  const rows1 = target.users + target.items;
  const bNnz = findFit(report.fits, 'als-iteration', 'nnz', 'cpu seconds')?.exponent ?? 1;
  const bRows = findFit(report.fits, 'als-iteration', 'users+items', 'cpu seconds')?.exponent ?? 1;
  // Factor count: ALS work per nnz ∝ f, per row ∝ f²; scale from the measured f by f² (conservative).
  const fScale = (f / a.als.factors) ** 2;
  const byNnz = a.als.cpuSecondsPerIteration * (nnz / a.matrix.nnz) ** bNnz * fScale;
  const byRows = a.als.cpuSecondsPerIteration * (rows1 / rows0) ** bRows * fScale;
  const alsCore = Math.max(byNnz, byRows);
  const csr1 = nnz * 16;
  const factors1 = rows1 * f * 4;
  const alsStage = a.stages.find((s) => s.stage === 'als');
  const ratio = alsStage ? alsStage.peakRssBytes / (a.matrix.csrBytes + a.als.factorBytes) : 3;
  const alsMemory = (csr1 + factors1) * ratio;
  // Core-seconds per user at I₀ items: the stage's CPU seconds over its sample (robust to other load
  // on the machine); without them, all cores × wall.
  const recStage = a.stages.find((x) => x.stage === 'recommend');
  const recCorePerUser = recStage && recStage.cpuSeconds > 0 ? recStage.cpuSeconds / a.recommend.sampleUsers : cores / a.recommend.usersPerSecond;
  const recCoreHours = (target.users * recCorePerUser * (target.items / a.matrix.items)) / 3600;
  const pc = a.precompute;
  const pcStage = a.stages.find((x) => x.stage === 'precompute');
  const pcCorePerUser = pc ? (pcStage && pcStage.cpuSeconds > 0 ? pcStage.cpuSeconds / pc.sampleUsers : cores / pc.usersPerSecond) : NaN;
  const pcCoreHours = (target.users * pcCorePerUser * (target.items / a.matrix.items)) / 3600;
  const eventStage = (name: 'synth' | 'ingest' | 'matrix'): { s: number; b: number } | null => {
    const st = a.stages.find((x) => x.stage === name);
    const fit = findFit(report.fits, name, 'events', 'cpu seconds') ?? findFit(report.fits, name, 'events', 'seconds');
    if (!st || !fit) return null;
    return { s: (st.cpuSeconds > 0 ? st.cpuSeconds : st.seconds) * (target.interactions / a.events) ** fit.exponent, b: fit.exponent };
  };
  const wasmLimit = 4 * GiB;
  const fitsOneBox = alsMemory <= target.boxMemoryGiB * GiB && factors1 < wasmLimit;
  const rowsOut: CapacityRow[] = [
    { what: 'target', value: `${fmt(target.users)} users, ${fmt(target.items)} items, ${fmt(target.interactions)} interactions`, how: `${fmt(nnz)} pairs (${fmt(ppe, 3)} pairs/event${target.pairsPerEvent ? ', given' : ` measured at ${a.size.label}`}), ${f} factors` },
    { what: 'anchor (largest measured size)', value: `${a.size.label}: ${fmt(a.matrix.users)} × ${fmt(a.matrix.items)}, nnz ${fmt(a.matrix.nnz)}`, how: `bench:scale ${report.startedAt.slice(0, 16)} on ${cores} cores (${report.machine.cpu}), load ${report.machine.loadAverageStart.map((x) => x.toFixed(1)).join(' ')}` },
    { what: 'ALS core-seconds / iteration', value: fmt(alsCore), how: `max(by nnz ${fmt(byNnz)} = ${fmt(a.als.cpuSecondsPerIteration, 2)} × (${fmt(nnz)}/${fmt(a.matrix.nnz)})^${bNnz.toFixed(2)}, by rows ${fmt(byRows)} = × (${fmt(rows1)}/${fmt(rows0)})^${bRows.toFixed(2)})${fScale !== 1 ? ` × (${f}/${a.als.factors})²` : ''}` },
    { what: `ALS, 15 iterations on ${fmt(target.clusterCores)} cores`, value: hours((15 * alsCore) / target.clusterCores), how: 'perfect scaling; a cluster adds shuffle time (Spark ALS moves factor blocks every half-iteration)' },
    { what: 'ALS memory in one process', value: gib(alsMemory), how: `(CSR ${gib(csr1)} + factors ${gib(factors1)}) × ${fmt(ratio, 2)} (ALS peak ÷ (CSR + factors) at ${a.size.label})` },
    { what: `one box of ${fmt(target.boxMemoryGiB)} GiB?`, value: fitsOneBox ? 'yes' : 'no', how: factors1 >= wasmLimit ? `factors ${gib(factors1)} exceed the 4 GiB wasm32 arena of recsys ALS: train with Spark ALS (recsys export --for spark-als), import the factors` : `needs ${gib(alsMemory)}` },
    { what: 'recommend-all top-10, all users', value: `${fmt(recCoreHours, 1)} core-h`, how: `${fmt(target.users)} users × ${fmt(recCorePerUser * 1000, 3)} core-ms/user at ${fmt(a.matrix.items)} items × ${fmt(target.items)}/${fmt(a.matrix.items)} items; ${hours((recCoreHours * 3600) / target.clusterCores)} on ${fmt(target.clusterCores)} cores` },
    { what: 'precompute into Redis, all users', value: pc ? `${fmt(pcCoreHours, 1)} core-h` : 'not measured', how: pc ? `${fmt(target.users)} users × ${fmt(pcCorePerUser * 1000, 3)} core-ms/user (ranking, reasons, encoding; Redis server excluded) at ${fmt(a.matrix.items)} items × ${fmt(target.items)}/${fmt(a.matrix.items)}; ${hours((pcCoreHours * 3600) / target.clusterCores)} on ${fmt(target.clusterCores)} cores as --shard i/N processes` : 'run bench:scale with Redis' },
  ];
  for (const name of ['synth', 'ingest', 'matrix'] as const) {
    const p = eventStage(name);
    if (p) rowsOut.push({ what: `${name}, CPU time`, value: hours(p.s), how: `CPU seconds at ${a.size.label} × (${fmt(target.interactions)}/${fmt(a.events)})^${p.b.toFixed(2)}${name === 'synth' ? ' (one thread: wall on a free core)' : ' (DuckDB uses every core)'}` });
  }
  rowsOut.push({ what: 'factor artifact on disk', value: gib(factors1), how: `(${fmt(target.users)} + ${fmt(target.items)}) × ${f} × 4 B (float32); int8 would be a quarter` });
  return { rows: rowsOut, anchor: a.size.label, nnz, alsCoreSecondsPerIteration: alsCore, alsMemoryBytes: alsMemory, recommendAllCoreHours: recCoreHours, precomputeCoreHours: pcCoreHours, fitsOneBox };
}
