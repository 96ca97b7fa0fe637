"""FAISS's side of bench/ann/run.sh: the same files, the same measurements, JSON lines.

Usage: python faiss_bench.py DIR N   (environment: REPS, EFS, TARGET, M, EFC as ann_bench)
Queries go one at a time through index.search, as a server would issue them; FAISS keeps
its default OpenMP threads except in the row marked "1 thread".
"""

import json
import os
import sys
import time

import faiss
import numpy as np


def rss_mib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def qps(reps, queries, index, k):
    rates, found = [], None
    for _ in range(reps):
        found = []
        start = time.perf_counter()
        for i in range(len(queries)):
            _, ids = index.search(queries[i : i + 1], k)
            found.append(ids[0])
        rates.append(len(queries) / (time.perf_counter() - start))
    return float(np.median(rates)), np.array(found)


def recall(found, gt):
    hits = sum(len(set(f[:10]) & set(g)) for f, g in zip(found, gt))
    return hits / (10 * len(found))


def row(index, n, build_s, rss, ef, r, q5, q10):
    print(json.dumps(dict(impl="faiss", index=index, n=n, build_s=round(build_s, 3),
                          rss_mib=round(rss, 1), ef=ef, recall10=round(r, 4),
                          qps5=round(q5, 1), qps10=round(q10, 1))), flush=True)


def main():
    d, n = sys.argv[1], int(sys.argv[2])
    meta = json.load(open(os.path.join(d, "meta.json")))
    dim, nq = meta["dim"], meta["nq"]
    reps = int(os.environ.get("REPS", 5))
    target = float(os.environ.get("TARGET", 0.98))
    efs = [int(e) for e in os.environ.get("EFS", "16,24,32,48,64,96,128,192,256").split(",")]
    m, efc = int(os.environ.get("M", 16)), int(os.environ.get("EFC", 100))
    base = np.fromfile(os.path.join(d, "base.f32"), dtype="<f4", count=n * dim).reshape(n, dim)
    queries = np.fromfile(os.path.join(d, "queries.f32"), dtype="<f4").reshape(nq, dim)
    gt = np.fromfile(os.path.join(d, f"gt_{n}.i32"), dtype="<i4").reshape(nq, 10)
    print(f"faiss {faiss.__version__}: n {n}, dim {dim}, {faiss.omp_get_max_threads()} threads",
          file=sys.stderr)

    nq_exact = min(max(500_000_000 // (n * dim), 20), nq)
    qx = queries[:nq_exact]
    default_threads = faiss.omp_get_max_threads()
    for name, make, threads in [
        ("IndexFlatL2", lambda: faiss.IndexFlatL2(dim), default_threads),
        ("IndexFlatIP", lambda: faiss.IndexFlatIP(dim), default_threads),
        ("IndexFlatIP (1 thread)", lambda: faiss.IndexFlatIP(dim), 1),
    ]:
        faiss.omp_set_num_threads(threads)
        rss0, start = rss_mib(), time.perf_counter()
        index = make()
        index.add(base)
        build_s, rss = time.perf_counter() - start, rss_mib() - rss0
        q5, _ = qps(reps, qx, index, 5)
        q10, found = qps(reps, qx, index, 10)
        row(name, n, build_s, rss, 0, recall(found, gt), q5, q10)
        del index
    faiss.omp_set_num_threads(default_threads)

    rss0, start = rss_mib(), time.perf_counter()
    index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = efc
    index.add(base)
    build_s, rss = time.perf_counter() - start, rss_mib() - rss0
    print(f"faiss: HNSW M {m} efc {efc} built in {build_s:.1f} s (RSS +{rss:.1f} MiB)",
          file=sys.stderr)
    chosen = efs[-1]
    for ef in efs:
        index.hnsw.efSearch = ef
        q10, found = qps(1, queries, index, 10)
        r = recall(found, gt)
        print(f"faiss: HNSW ef {ef:>4}: recall@10 {r:.4f}, {q10:.0f} QPS", file=sys.stderr)
        if r >= target:
            chosen = ef
            break
    index.hnsw.efSearch = chosen
    q5, _ = qps(reps, queries, index, 5)
    q10, found = qps(reps, queries, index, 10)
    row(f"IndexHNSWFlat M={m} efc={efc}", n, build_s, rss, chosen, recall(found, gt), q5, q10)


if __name__ == "__main__":
    main()
