#!/usr/bin/env python3
"""The PyTorch peer of NearestBenchmark: exact k nearest rows of the same saved matrix.

    bench/nearest_torch.py --tensor NAME [--queries 1,1000] [--k 10] [--metric cosine,euclidean]
                           [--rounds 5] [--block 65536] [--threads 1] FILE...

The matrix is tensor NAME of each safetensors file, in the order given, read into one tensor in
memory (the load is timed apart). A search is what a PyTorch user writes: per block of rows,
torch.mm with the queries, the metric's terms (row norms, computed in each search as jlens does),
topk, and a merge of the blocks' top k. Queries are rows i*N/q of the matrix. Prints JSON lines
like NearestBenchmark's.
"""
import argparse
import json
import resource
import struct
import sys
import time

import numpy as np
import torch


def read_tensor(path, name):
    """One F32 tensor of a safetensors file: an 8-byte header length, a JSON header, the data."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    if name not in header:
        sys.exit(f"{path} has no tensor {name}; it has {sorted(k for k in header if k != '__metadata__')}")
    info = header[name]
    if info["dtype"] != "F32":
        sys.exit(f"{path}: {name} is {info['dtype']}, expected F32")
    begin, end = info["data_offsets"]
    shape = tuple(info["shape"])
    return np.fromfile(path, dtype=np.float32, count=(end - begin) // 4, offset=8 + n + begin).reshape(shape)


def search(x, queries, k, metric, block):
    """The k nearest rows of x to each query: (values [q, k], rows [q, k]), larger score = nearer."""
    n = x.shape[0]
    if metric == "cosine":
        q = queries / queries.norm(dim=1, keepdim=True)
    else:
        q = queries
    best_s = best_i = None
    for start in range(0, n, block):
        xb = x[start:start + block]
        s = torch.mm(q, xb.t())                                 # [queries, rows]
        if metric == "cosine":
            s.div_(xb.norm(dim=1))                              # q̂·x / ‖x‖
        else:
            s.sub_(0.5 * (xb * xb).sum(dim=1))                  # q·x − ‖x‖²/2 ranks as −‖q − x‖²/2
        v, i = s.topk(min(k, s.shape[1]), dim=1)
        i += start
        if best_s is None:
            best_s, best_i = v, i
        else:
            v, j = torch.cat([best_s, v], dim=1).topk(k, dim=1)
            best_i = torch.cat([best_i, i], dim=1).gather(1, j)
            best_s = v
    return best_s, best_i


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--tensor", required=True)
    p.add_argument("--queries", default="1,1000")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--metric", default="cosine,euclidean")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--block", type=int, default=65536)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("files", nargs="+")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    t0 = time.perf_counter()
    x = torch.from_numpy(np.concatenate([read_tensor(f, a.tensor) for f in a.files]))
    print(json.dumps({"impl": "pytorch", "event": "open", "rows": x.shape[0], "d": x.shape[1], "files": len(a.files),
                      "ms": round((time.perf_counter() - t0) * 1e3, 1), "torch": torch.__version__,
                      "threads": torch.get_num_threads()}), flush=True)
    with torch.no_grad():
        for metric in a.metric.split(","):
            for nq in map(int, a.queries.split(",")):
                rows = [j * x.shape[0] // nq for j in range(nq)]
                queries = x[rows].clone()
                ms, cpu = [], []
                for _ in range(a.rounds + 1):
                    t, c = time.perf_counter(), time.process_time()
                    _, idx = search(x, queries, a.k, metric, a.block)
                    ms.append((time.perf_counter() - t) * 1e3)
                    cpu.append((time.process_time() - c) * 1e3)
                rest, rest_cpu = sorted(ms[1:]), sorted(cpu[1:])
                print(json.dumps({"impl": "pytorch", "metric": metric, "queries": nq, "k": a.k, "first_ms": round(ms[0], 1),
                                  "median_ms": round(rest[len(rest) // 2], 1), "min_ms": round(rest[0], 1),
                                  "median_cpu_ms": round(rest_cpu[len(rest_cpu) // 2], 1), "rounds": a.rounds}), flush=True)
                print(json.dumps({"impl": "pytorch", "metric": metric, "queries": nq,
                                  "first_query_rows": idx[0].tolist()}), flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"impl": "pytorch", "event": "end", "peak_rss_mb": round(peak)}), flush=True)


if __name__ == "__main__":
    main()
