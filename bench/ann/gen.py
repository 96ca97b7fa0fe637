"""Low-rank synthetic embeddings for the ANN benchmark.

Writes into DIR (raw little-endian f32 / i32, row-major, no header):
  base.f32     MAX x DIM vectors; size n uses the first n rows
  queries.f32  NQ x DIM vectors from the same distribution
  gt_<n>.i32   NQ x 10 exact top-10 ids (inner product) for every size n
  meta.json    the parameters, so an existing set is reused only when they match

Rows are normalise(z @ A + noise): z ~ N(0, I_rank), A ~ N(0, 1/rank), noise ~ N(0, sigma^2).
Such data has a low intrinsic dimension like real sentence embeddings; on uniform random
384-d vectors every HNSW has near-zero recall, which says nothing about real use.
"""

import json
import os
import sys

import faiss
import numpy as np


def rows(rng, n, a, sigma):
    z = rng.standard_normal((n, a.shape[0]), dtype=np.float32)
    x = z @ a + sigma * rng.standard_normal((n, a.shape[1]), dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype("<f4")


def main():
    out, sizes = sys.argv[1], [int(s) for s in sys.argv[2].split(",")]
    dim, nq = int(os.environ.get("DIM", 384)), int(os.environ.get("NQ", 1000))
    rank, sigma = int(os.environ.get("RANK", 32)), float(os.environ.get("NOISE", 0.2))
    seed = 1234
    biggest = max(sizes)
    meta = dict(dim=dim, nq=nq, rank=rank, noise=sigma, seed=seed)
    os.makedirs(out, exist_ok=True)
    meta_path = os.path.join(out, "meta.json")
    old = json.load(open(meta_path)) if os.path.exists(meta_path) else {}
    have = old.get("max", 0) if {k: old.get(k) for k in meta} == meta else 0
    if have < biggest:
        rng = np.random.default_rng(seed)
        a = (rng.standard_normal((rank, dim)) / np.sqrt(rank)).astype(np.float32)
        queries = rows(rng, nq, a, sigma)
        queries.tofile(os.path.join(out, "queries.f32"))
        with open(os.path.join(out, "base.f32"), "wb") as f:
            for start in range(0, biggest, 100_000):
                rows(rng, min(100_000, biggest - start), a, sigma).tofile(f)
        for name in os.listdir(out):
            if name.startswith("gt_"):
                os.remove(os.path.join(out, name))
        print(f"generated {biggest} x {dim} (rank {rank}, noise {sigma}) in {out}", file=sys.stderr)
        have = biggest
    json.dump(dict(meta, max=have), open(meta_path, "w"))
    queries = np.fromfile(os.path.join(out, "queries.f32"), dtype="<f4").reshape(nq, dim)
    base = np.memmap(os.path.join(out, "base.f32"), dtype="<f4", mode="r").reshape(-1, dim)
    for n in sizes:
        path = os.path.join(out, f"gt_{n}.i32")
        if os.path.exists(path):
            continue
        index = faiss.IndexFlatIP(dim)
        index.add(np.ascontiguousarray(base[:n]))
        _, ids = index.search(queries, 10)
        ids.astype("<i4").tofile(path)
        print(f"ground truth for {n}", file=sys.stderr)


if __name__ == "__main__":
    main()
