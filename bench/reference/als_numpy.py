"""Independent reference: exact implicit ALS (Hu, Koren & Volinsky 2008) in numpy, run on a split
exported by `recsys split --export DIR`, and the same top-10 metrics. Used to check recsys's ALS and
metric definitions on identical data; not part of the package.

usage: python3 bench/reference/als_numpy.py DIR [factors] [iterations] [reg] [alpha] [als-wr|plain]
"""
import csv, math, sys
import numpy as np

d = sys.argv[1]
K = int(sys.argv[2]) if len(sys.argv) > 2 else 64
ITERS = int(sys.argv[3]) if len(sys.argv) > 3 else 15
REG = float(sys.argv[4]) if len(sys.argv) > 4 else 0.5
ALPHA = float(sys.argv[5]) if len(sys.argv) > 5 else 1.0
SCALING = sys.argv[6] if len(sys.argv) > 6 else 'als-wr'

def read(path):
    rows = []
    with open(path) as f:
        r = csv.reader(f, delimiter='\t'); next(r)
        for u, i, v, _t in r: rows.append((u, i, float(v)))
    return rows

train, test = read(f'{d}/train.tsv'), read(f'{d}/test.tsv')
users = sorted({u for u, _, _ in train + test}, key=lambda x: int(x) if x.isdigit() else x)
items = sorted({i for _, i, _ in train + test}, key=lambda x: int(x) if x.isdigit() else x)
ui = {u: n for n, u in enumerate(users)}; ii = {i: n for n, i in enumerate(items)}
nU, nI = len(users), len(items)
R = [dict() for _ in range(nU)]; C = [dict() for _ in range(nI)]
for u, i, v in train: R[ui[u]][ii[i]] = v; C[ii[i]][ui[u]] = v
rng = np.random.default_rng(0)
X = rng.random((nU, K)) * 0.01; Y = rng.random((nI, K)) * 0.01

def solve(rows, fixed):
    G = fixed.T @ fixed
    out = np.zeros((len(rows), K))
    for r, row in enumerate(rows):
        if not row: continue
        idx = np.fromiter(row.keys(), int); val = np.fromiter(row.values(), float)
        conf = 1 + ALPHA * val
        Yr = fixed[idx]
        lam = REG * (len(idx) if SCALING == 'als-wr' else 1)
        A = G + (Yr.T * (conf - 1)) @ Yr + lam * np.eye(K)
        b = Yr.T @ conf
        out[r] = np.linalg.solve(A, b)
    return out

for _ in range(ITERS):
    X = solve(R, Y); Y = solve(C, X)

tests = {}
for u, i, _ in test: tests.setdefault(ui[u], set()).add(ii[i])
P = Rc = N = Mc = 0.0
for u, rel in tests.items():
    s = Y @ X[u]
    s[list(R[u].keys())] = -np.inf
    top = np.argsort(-s, kind='stable')[:10]
    hits = [1 if t in rel else 0 for t in top]
    h = sum(hits); m = min(10, len(rel))
    P += h / 10; Rc += h / m
    N += sum(x / math.log2(r + 2) for r, x in enumerate(hits)) / sum(1 / math.log2(r + 2) for r in range(m))
    c = ap = 0
    for r, x in enumerate(hits):
        if x: c += 1; ap += c / (r + 1)
    Mc += ap / m
n = len(tests)
print(f'numpy exact ALS k={K} it={ITERS} reg={REG} ({SCALING}) alpha={ALPHA}: users {n} P@10 {P/n:.4f} R@10(cap) {Rc/n:.4f} NDCG@10 {N/n:.4f} MAP@10(cap) {Mc/n:.4f}')
