/**
 * What the HTTP benchmarks share (bench/serve.ts, bench/experiments.ts): autocannon in its own
 * process (so the load generator never shares the event loop it measures), random paths from a
 * fixed list, every response time kept for exact percentiles; and a spare loopback port.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

const ROOT = new URL('../', import.meta.url).pathname;

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  non2xx: number;
  errors: number;
}

const LOADGEN = `
import autocannon from 'autocannon';
const o = JSON.parse(process.argv[1]);
const times = [];
let seed = 12345;
const pick = () => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return o.paths[seed % o.paths.length]; };
const inst = autocannon({
  url: o.url, connections: o.connections, duration: o.seconds, ...(o.rate ? { overallRate: o.rate } : {}),
  requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: pick() }) }],
}, (err, res) => {
  if (err) { console.error(err); process.exit(1); }
  times.sort((a, b) => a - b);
  const q = (p) => times.length ? times[Math.min(times.length - 1, Math.floor(p * times.length))] : NaN;
  process.stdout.write(JSON.stringify({ requests: times.length, rps: times.length / o.seconds, p50: q(0.5), p95: q(0.95), p99: q(0.99), non2xx: res.non2xx, errors: res.errors + res.timeouts }));
});
inst.on('response', (_c, _s, _b, ms) => times.push(ms));
`;

/** `seconds` of GETs over `paths` with `connections` (closed loop, or `rate` requests/s in total when > 0). */
export function load(url: string, paths: string[], seconds: number, connections: number, rate = 0): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', LOADGEN, JSON.stringify({ url, paths, seconds, connections, rate })], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as LoadResult) : reject(new Error(`load generator exited with ${code}`))));
  });
}

/** A free loopback port. */
export function sparePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}
