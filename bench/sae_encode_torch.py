#!/usr/bin/env python3
"""Issue 17's SAE benchmark, the PyTorch peer: relu(x @ W_enc + b_enc) for a [tokens, d_in] residual stream and a
random SAE, timed after warm-up; one JSON line in SaeEncodeBenchmark's format."""
import argparse, json, os, statistics, time

import torch


def status(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int("".join(c for c in line if c.isdigit()))
    return -1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=1024)
    ap.add_argument("--d-in", type=int, default=768)
    ap.add_argument("--d-sae", type=int, default=24576)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--threads", type=int, default=os.cpu_count(), help="torch.set_num_threads, as many as jlens uses")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    w_enc = torch.randn(a.d_in, a.d_sae) * 0.02
    b_enc = torch.randn(a.d_sae) * 0.02
    x = torch.randn(a.tokens, a.d_in)
    with torch.inference_mode():
        for _ in range(5):
            f = torch.relu(x @ w_enc + b_enc)
            del f
        before = status("VmRSS")
        times = []
        fired = 0.0
        for r in range(a.runs):
            t0 = time.perf_counter()
            f = torch.relu(x @ w_enc + b_enc)
            times.append(time.perf_counter() - t0)
            if r == 0:
                fired = float((f > 0).sum()) / a.tokens
            del f
        after = status("VmRSS")
    times.sort()
    print(json.dumps({"impl": "pytorch", "tokens": a.tokens, "d_in": a.d_in, "d_sae": a.d_sae, "runs": a.runs,
                      "median_s": round(statistics.median(times), 5), "best_s": round(times[0], 5),
                      "peak_rss_mb": round(status("VmHWM") / 1024, 1), "rss_growth_mb": round((after - before) / 1024, 1),
                      "dense_output_mb": round(4 * a.tokens * a.d_sae / (1 << 20), 1), "mean_l0": round(fired, 1),
                      "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
