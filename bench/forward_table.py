#!/usr/bin/python3
"""Side-by-side markdown table of the forward-pass benchmark's JSON lines (used by bench/forward).

    /usr/bin/python3 bench/forward_table.py JLENS.jsonl PYTORCH.jsonl [--machine "- line" ...]

Reads the lines that are JSON objects with "impl" (others are ignored: logs), keyed by
(what, tokens). A row missing on one side shows "-". Ratio = jlens median / pytorch median
(below 1: jlens is faster).
"""
import argparse
import json
import os


def read(path):
    rows = {}
    if not path or not os.path.exists(path):
        return rows
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                o = json.loads(line)
            except ValueError:
                continue
            if isinstance(o, dict) and "impl" in o and "what" in o:
                rows[(o["what"], int(o.get("tokens", 0)))] = o
    return rows


def fmt(x, nd=1):
    return "-" if x is None else f"{x:,.{nd}f}"


def mb(o, key, scale=1.0):
    v = o.get(key) if o else None
    return None if v is None else v * scale


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("jlens")
    ap.add_argument("pytorch")
    ap.add_argument("--machine", action="append", default=[], help="a markdown line to print below")
    a = ap.parse_args()
    j, p = read(a.jlens), read(a.pytorch)
    order = []  # by token count, then in the order the benchmarks printed them; "load" (tokens 0) last
    for key in list(j) + list(p):
        if key not in order:
            order.append(key)
    order.sort(key=lambda k: (k[1] == 0, k[1]))

    print("| what | tokens | jlens median ms | pytorch median ms | jlens / pytorch "
          "| jlens min ms | pytorch min ms | cache MB (jlens / pytorch) | peak RSS MB (jlens / pytorch) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key in order:
        jo, po = j.get(key), p.get(key)
        jm, pm = mb(jo, "median_ms"), mb(po, "median_ms")
        ratio = f"{jm / pm:.2f}" if jm is not None and pm else "-"
        cache = ""
        if (jo and jo.get("cache_bytes")) or (po and po.get("cache_bytes")):
            cache = f"{fmt(mb(jo, 'cache_bytes', 1e-6), 0)} / {fmt(mb(po, 'cache_bytes', 1e-6), 0)}"
        if jo and jo.get("held_mb") is not None:  # jlens's peak of one cached run, in a fresh JVM
            cache = (f"{fmt(jo['held_mb'], 0)} held (patterns {fmt(jo.get('patterns_mb'), 0)}); RSS grew "
                     f"{fmt(jo.get('peak_rss_increase_mb'), 0)} = {jo.get('ratio', 0):.3f}x")
        rss = f"{fmt(mb(jo, 'peak_rss_mb'), 0)} / {fmt(mb(po, 'peak_rss_mb'), 0)}"
        print(f"| {key[0]} | {key[1] or ''} | {fmt(jm)} | {fmt(pm)} | {ratio} | {fmt(mb(jo, 'min_ms'))} "
              f"| {fmt(mb(po, 'min_ms'))} | {cache} | {rss} |")
    runs = {}
    for o in list(j.values()) + list(p.values()):
        if o["what"] != "load" and o.get("runs") is not None:  # peak-memory lines have no timed runs
            runs.setdefault(o["impl"], {})[int(o["tokens"])] = o.get("runs")
    print()
    print("Timed runs after warm-up: " + "; ".join(
        f"{impl} " + ", ".join(f"{n} at {t} tokens" for t, n in sorted(by.items())) for impl, by in runs.items())
        + ". Peak RSS is the process's peak so far (it grows down the table). MB = 10^6 bytes.")
    if a.machine:
        print()
        for line in a.machine:
            print(line)


if __name__ == "__main__":
    main()
