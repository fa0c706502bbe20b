#!/usr/bin/python3
"""Side-by-side markdown table of the generation benchmark's JSON lines (used by bench/generate).

    /usr/bin/python3 bench/generate_table.py JLENS.jsonl PYTORCH.jsonl [--machine "line" ...]

Reads the last line with "what": "generate" on each side. Ratio = jlens / pytorch of each figure: above 1 for
a rate (tokens/s) means jlens is faster; below 1 for a time (ms) means jlens is faster. Then whether both sides
generated the same greedy tokens: how many of the new tokens agree, and where they first diverge.
"""
import argparse
import json
import os


def read(path):
    found = None
    if path and os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                try:
                    o = json.loads(line)
                except ValueError:
                    continue
                if isinstance(o, dict) and o.get("what") == "generate":
                    found = o
    return found


ROWS = [  # key, label, decimals, rate (higher is better)
    ("tokens_per_s", "tokens/s, whole call (median run)", 2, True),
    ("best_tokens_per_s", "tokens/s, best run", 2, True),
    ("decode_tokens_per_s", "decode tokens/s (median run)", 2, True),
    ("decode_ms_per_token", "ms per decoded token (median run)", 2, False),
    ("ttft_ms", "time to first token, ms (prefill)", 1, False),
    ("total_ms", "whole call, ms (median run)", 0, False),
    ("min_total_ms", "whole call, ms (best run)", 0, False),
    ("peak_rss_mb", "peak RSS, MB", 0, False),
]


def agreement(a, b):
    """(same positions, compared, first divergence index or None) of two id lists."""
    n = min(len(a), len(b))
    same = sum(1 for x, y in zip(a, b) if x == y)
    first = next((i for i in range(n) if a[i] != b[i]), None)
    return same, n, first


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("jlens")
    ap.add_argument("pytorch")
    ap.add_argument("--machine", action="append", default=[], help="a markdown line to print below")
    a = ap.parse_args()
    j, p = read(a.jlens), read(a.pytorch)
    any_side = j or p
    if any_side:
        print(f"Greedy generation, {any_side['prompt_tokens']}-token prompt, {any_side['new_tokens']} new tokens, "
              f"key/value cache on both sides; medians of {', '.join('%s %s' % (o['impl'], o['runs']) for o in (j, p) if o)} "
              f"timed runs after warm-up.")
        print()
    print("| | jlens | PyTorch | jlens / PyTorch |")
    print("|---|---:|---:|---:|")
    for key, label, nd, rate in ROWS:
        jv, pv = (j or {}).get(key), (p or {}).get(key)
        ratio = f"{jv / pv:.2f}" if jv is not None and pv else "-"
        if ratio != "-" and key == "tokens_per_s":
            ratio = f"**{ratio}**"
        fmt = lambda v: "-" if v is None else f"{v:,.{nd}f}"
        print(f"| {label} | {fmt(jv)} | {fmt(pv)} | {ratio} |")
    print()
    if j and p:
        same, n, first = agreement(j["ids"], p["ids"])
        if first is None and len(j["ids"]) == len(p["ids"]):
            print(f"Greedy tokens: identical, all {n} of {n} (hash {j['ids_hash']}).")
        else:
            print(f"Greedy tokens: {same} of {n} positions agree; the first divergence is at new token {first} "
                  f"(jlens {j['ids'][first]}, PyTorch {p['ids'][first]}): with random weights two logits can be "
                  "within float rounding of each other, and after a different pick the continuations differ.")
        print(f"First 20 (jlens): {j['first20']}")
    if a.machine:
        print()
        for line in a.machine:
            print(f"- {line}")


if __name__ == "__main__":
    main()
