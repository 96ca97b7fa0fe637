"""sentence-transformers side of the embedding throughput benchmark (see run.sh).

Prints one JSON line like `raymundo model bench`: texts per second excluding model load.
"""
import json
import os
import sys
import time

t0 = time.time()
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

model_dir, texts_path, prefix = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else ""
torch.set_num_threads(int(os.environ.get("THREADS", os.cpu_count() or 1)))
texts = [json.loads(l)["text"] for l in open(texts_path, encoding="utf-8") if l.strip()]
m = SentenceTransformer(model_dir, device="cpu")
load = time.time() - t0
t = time.time()
m.encode([prefix + x for x in texts], batch_size=int(os.environ.get("BATCH", "32")), normalize_embeddings=True)
secs = time.time() - t
print(json.dumps({"model": "sentence-transformers " + os.path.basename(model_dir.rstrip("/")), "texts": len(texts),
                  "load_seconds": load, "embed_seconds": secs, "texts_per_second": len(texts) / secs}))
