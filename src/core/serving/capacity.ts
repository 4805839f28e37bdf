/**
 * Capacity planning from measured serving rates (`recsys bench capacity`): given what
 * `npm run bench:serve` measured on this machine (requests/s per tier, Redis bytes per stored
 * list, Redis GET/s, precompute users/s) and a stated load (users, items, QPS, how requests split
 * over the tiers), how many app cores/servers, how much Redis memory, how many Redis nodes, and
 * what that costs at the given unit prices.
 *
 * The arithmetic, per line of the table:
 *  - app cores = Σ_tier QPS·share_tier ÷ (measured req/s of the tier ÷ measured cores). The
 *    measurement had server and load generator on the same cores, so this over-provisions.
 *  - L3 cost grows with the catalogue: the IVF index scans ≈ n/32 items per query, so the 1M-item
 *    rate is scaled by 1M ÷ items (linear: conservative).
 *  - Redis memory = users·bytes(L2 list) + active users·(bytes(L1 hash) + bytes(history)).
 *  - Redis nodes = max(memory ÷ usable memory per node, commands/s ÷ measured GET/s per node);
 *    commands per request: L1 hit 1, L2 2 (+2 write-back), L3 2 (+2 write-back), LRU 0.
 *  - precompute hours = users ÷ (measured users/s per core · cores of the precompute fleet),
 *    scaled by items ÷ measured catalogue (ranking cost is linear in the catalogue).
 */
import { RecsysError } from '../errors.js';

export interface MeasuredRates {
  /** When and where it was measured (bench:serve). */
  measuredAt: string;
  machine: { cores: number; cpu: string };
  /** Saturated req/s of each path on `machine.cores` cores. */
  rps: { lru: number; l1: number; l2: number; l3: number; l3Ivf1m: number };
  /** Catalogue size of the lru/l1/l2/l3 measurements. */
  catalogItems: number;
  redis: { getPerSecond: number; bytesPerL2List: number; l2ListLength: number; bytesPerL1Hash: number };
  precompute: { usersPerSecond: number; cores: number; catalogItems: number };
}

export interface CapacityLoad {
  users: number;
  items: number;
  qps: number;
  /** Shares of requests answered by each tier (normalised to sum 1). */
  shares: { lru: number; l1: number; l2: number; l3: number };
  /** Users with a live L1 entry and history at once. */
  activeUserShare: number;
  /** Bytes of recent history per active user. */
  historyBytesPerUser: number;
  serverCores: number;
  redisNodeMemoryGiB: number;
  usdPerCoreHour: number;
  usdPerGiBHour: number;
  precomputeCores: number;
}

export interface CapacityRow {
  what: string;
  value: string;
  how: string;
}

export interface CapacityPlan {
  rows: CapacityRow[];
  appCores: number;
  appServers: number;
  redisGiB: number;
  redisNodes: number;
  monthlyUsd: number;
}

const fmt = (x: number, digits = 0): string => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function planCapacity(m: MeasuredRates, load: CapacityLoad): CapacityPlan {
  const total = load.shares.lru + load.shares.l1 + load.shares.l2 + load.shares.l3;
  if (!(total > 0)) throw new RecsysError('RECSYS_ERR_USAGE', 'the tier shares must add up to more than 0 (--lru-share, --l1-share, --l2-share, --l3-share)', { flag: '--l1-share' });
  const share = { lru: load.shares.lru / total, l1: load.shares.l1 / total, l2: load.shares.l2 / total, l3: load.shares.l3 / total };
  const perCore = (rps: number): number => rps / m.machine.cores;
  const l3PerCore = perCore(m.rps.l3Ivf1m) * Math.min(1, 1_000_000 / Math.max(load.items, 1));
  const cores = {
    lru: (load.qps * share.lru) / perCore(m.rps.lru),
    l1: (load.qps * share.l1) / perCore(m.rps.l1),
    l2: (load.qps * share.l2) / perCore(m.rps.l2),
    l3: (load.qps * share.l3) / l3PerCore,
  };
  const appCores = cores.lru + cores.l1 + cores.l2 + cores.l3;
  const appServers = Math.ceil(appCores / load.serverCores);
  const GiB = 2 ** 30;
  const active = load.users * load.activeUserShare;
  const l2Bytes = load.users * m.redis.bytesPerL2List;
  const l1Bytes = active * m.redis.bytesPerL1Hash;
  const histBytes = active * load.historyBytesPerUser;
  const redisGiB = (l2Bytes + l1Bytes + histBytes) / GiB;
  const commandsPerSecond = load.qps * (share.l1 * 1 + share.l2 * 4 + share.l3 * 4);
  const nodesByMemory = Math.ceil(redisGiB / load.redisNodeMemoryGiB);
  const nodesByOps = Math.ceil(commandsPerSecond / m.redis.getPerSecond);
  const redisNodes = Math.max(nodesByMemory, nodesByOps, 1);
  const precomputeRate = (m.precompute.usersPerSecond / m.precompute.cores) * load.precomputeCores * (m.precompute.catalogItems / Math.max(load.items, 1));
  const precomputeHours = load.users / precomputeRate / 3600;
  const monthlyUsd = 730 * (appServers * load.serverCores * load.usdPerCoreHour + redisNodes * load.redisNodeMemoryGiB * load.usdPerGiBHour);
  const rows: CapacityRow[] = [
    { what: 'load', value: `${fmt(load.users)} users, ${fmt(load.items)} items, ${fmt(load.qps)} req/s`, how: `tiers: LRU ${fmt(100 * share.lru, 1)} %, L1 ${fmt(100 * share.l1, 1)} %, L2 ${fmt(100 * share.l2, 1)} %, L3 ${fmt(100 * share.l3, 1)} %` },
    { what: 'measured per core', value: `LRU ${fmt(perCore(m.rps.lru))}, L1 ${fmt(perCore(m.rps.l1))}, L2 ${fmt(perCore(m.rps.l2))}, L3 ${fmt(l3PerCore, 1)} req/s`, how: `bench:serve ${m.measuredAt} on ${m.machine.cores} cores (${m.machine.cpu}); L3 = IVF at 1M items × 1M/${fmt(load.items)}` },
    { what: 'app cores', value: fmt(appCores), how: `LRU ${fmt(cores.lru)} + L1 ${fmt(cores.l1)} + L2 ${fmt(cores.l2)} + L3 ${fmt(cores.l3)}` },
    { what: 'app servers', value: fmt(appServers), how: `${load.serverCores} cores each` },
    { what: 'Redis memory', value: `${fmt(redisGiB, 1)} GiB`, how: `L2 ${fmt(l2Bytes / GiB, 1)} GiB (${fmt(m.redis.bytesPerL2List)} B × users, top-${m.redis.l2ListLength}) + L1 ${fmt(l1Bytes / GiB, 1)} GiB + history ${fmt(histBytes / GiB, 1)} GiB (${fmt(100 * load.activeUserShare)} % active users)` },
    { what: 'Redis commands/s', value: fmt(commandsPerSecond), how: `measured ${fmt(m.redis.getPerSecond)} GET/s per node (redis-benchmark)` },
    { what: 'Redis nodes (masters)', value: fmt(redisNodes), how: `max(${nodesByMemory} by memory at ${load.redisNodeMemoryGiB} GiB usable, ${nodesByOps} by commands/s)` },
    { what: 'precompute, all users', value: `${fmt(precomputeHours, 1)} h`, how: `${fmt(m.precompute.usersPerSecond)} users/s on ${m.precompute.cores} cores at ${fmt(m.precompute.catalogItems)} items, × ${load.precomputeCores} cores, × ${fmt(m.precompute.catalogItems)}/${fmt(load.items)} items` },
    { what: 'cost per month', value: `$${fmt(monthlyUsd)}`, how: `730 h × (${fmt(appServers * load.serverCores)} cores × $${load.usdPerCoreHour} + ${redisNodes} × ${load.redisNodeMemoryGiB} GiB × $${load.usdPerGiBHour})` },
  ];
  return { rows, appCores, appServers, redisGiB, redisNodes, monthlyUsd };
}
