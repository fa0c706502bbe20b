#!/usr/bin/python3
"""The PyTorch peer of jlens's generation benchmark (issue 16 item 5): greedy decoding with a key/value cache.

    /usr/bin/python3 bench/generate_torch.py --model bench/out/gpt2-small-random --prompt-tokens 45 --new-tokens 200
    /usr/bin/python3 bench/generate_torch.py --check ../shared/fixtures/gpt2-tiny

The model and its loading are bench/forward_torch.py's (the same weights, HF GPT-2 semantics); the decode
path here is what Hugging Face's GPT-2 does with use_cache=True, written in plain torch: the prompt runs once
(causal mask), each block keeps its keys and values, and every later step runs only the new token, whose
keys and values are concatenated to the past ones (torch.cat per layer, as HF's `layer_past` does). No hook
modules are called on this path (HF has none). Only the last position goes through the final LayerNorm and the
unembedding. Everything under torch.inference_mode().

The prompt is token ids (7 + 1009*i) mod vocab, i = 0..prompt_tokens-1: the same ids as
src/test/java/dev/jlens/bench/GenerateBenchmark.java. Prints one JSON line with the fields that class prints.

Check mode: on the fixture, the cached path's logits against the whole-context forward at every step, and its
greedy tokens against golden.json's.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# forward_torch re-executes itself with the MALLOC settings only when it is the main program: do it here.
MALLOC_ENV = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": "1099511627776"}
if __name__ == "__main__" and any(os.environ.get(k) != v for k, v in MALLOC_ENV.items()):
    print("generate_torch: re-running with " + " ".join(f"{k}={v}" for k, v in MALLOC_ENV.items()), file=sys.stderr)
    os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **MALLOC_ENV})

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import forward_torch  # noqa: E402


def prompt_ids(n, vocab):
    return [(7 + 1009 * i) % vocab for i in range(n)]


def fnv1a(ids):
    """FNV-1a 64 over the ids as decimal text joined by commas (GenerateBenchmark.hash)."""
    h = 0xcbf29ce484222325
    for b in ",".join(str(i) for i in ids).encode("ascii"):
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def step(model, idx, past):
    """Runs idx (1, T) after the tokens `past` holds; returns the last position's logits (vocab,) and the new past.

    past: a list with one (k, v) per block, each (1, n_head, t, d_head), or None for the prompt."""
    B, T = idx.shape
    start = 0 if past is None else past[0][0].shape[2]
    x = model.wte(idx) + model.wpe.weight[start:start + T]  # (1, T, C)
    C = x.shape[-1]
    new_past = []
    for i, block in enumerate(model.blocks):
        attn, mlp = block.attn, block.mlp
        nh = attn.n_head
        hs = C // nh
        h = F.layer_norm(x, (C,), block.ln1.weight, block.ln1.bias, block.ln1.eps)
        qkv = torch.addmm(attn.c_attn.bias, h.view(T, C), attn.c_attn.weight)  # (T, 3C)
        q, k, v = qkv.view(B, T, 3, nh, hs).permute(2, 0, 3, 1, 4)  # each (1, nh, T, hs)
        if past is not None:
            pk, pv = past[i]
            k = torch.cat((pk, k), dim=2)
            v = torch.cat((pv, v), dim=2)
        new_past.append((k, v))
        scores = torch.matmul(q, k.transpose(-2, -1)).mul_(hs ** -0.5)  # (1, nh, T, start+T)
        if T > 1:  # the prompt: causal mask; a single new token sees every cached key
            scores.masked_fill_(~attn.causal[start:start + T, :start + T], float("-inf"))
        z = torch.matmul(F.softmax(scores, dim=-1), v)  # (1, nh, T, hs)
        z = z.transpose(1, 2).reshape(T, C)
        x = x + torch.addmm(attn.c_proj.bias, z, attn.c_proj.weight).view(B, T, C)
        h = F.layer_norm(x, (C,), block.ln2.weight, block.ln2.bias, block.ln2.eps)
        pre = torch.addmm(mlp.c_fc.bias, h.view(T, C), mlp.c_fc.weight)
        x = x + torch.addmm(mlp.c_proj.bias, F.gelu(pre, approximate="tanh"), mlp.c_proj.weight).view(B, T, C)
    last = F.layer_norm(x[0, -1], (C,), model.ln_final.weight, model.ln_final.bias, model.ln_final.eps)
    return F.linear(last, model.wte.weight), new_past  # (vocab,)


def generate(model, ids, n_new, on_token=None):
    """Greedy: the prompt once, then one token per step against the cache. Returns the new ids."""
    logits, past = step(model, torch.tensor([ids]), None)
    out = []
    for i in range(n_new):
        nxt = int(torch.argmax(logits))
        out.append(nxt)
        if on_token:
            on_token(nxt)
        if i + 1 < n_new:
            logits, past = step(model, torch.tensor([[nxt]]), past)
    return out


def benchmark(args):
    t0 = time.perf_counter()
    model = forward_torch.load(args.model)
    cfg = model.cfg
    print(f"generate_torch: torch {torch.__version__}, BLAS {forward_torch.blas_in_use()}, threads "
          f"{torch.get_num_threads()}; {args.model} loaded in {(time.perf_counter() - t0) * 1e3:.0f} ms",
          file=sys.stderr)
    if args.prompt_tokens + args.new_tokens > cfg["n_positions"]:
        sys.exit("prompt + new tokens are past the model's context (this peer does not crop)")
    ids = prompt_ids(args.prompt_tokens, cfg["vocab_size"])
    n = args.new_tokens
    for i in range(args.warmups):
        w = time.perf_counter()
        generate(model, ids, n)
        print(f"warm-up {i + 1}: {(time.perf_counter() - w) * 1e3:.0f} ms", file=sys.stderr)
    total, ttft, decode, first = [], [], [], None
    for r in range(args.runs):
        at = []
        start = time.perf_counter()
        new = generate(model, ids, n, lambda _: at.append(time.perf_counter()))
        end = time.perf_counter()
        if first is not None and new != first:
            sys.exit("greedy runs disagree")
        first = new
        total.append((end - start) * 1e3)
        ttft.append((at[0] - start) * 1e3)
        decode.append((at[-1] - at[0]) * 1e3 / (n - 1) if n > 1 else 0)
        print(f"run {r + 1}: {total[-1]:.0f} ms, first token {ttft[-1]:.1f} ms, "
              f"{decode[-1]:.2f} ms per decoded token", file=sys.stderr)
    med, best, dec = statistics.median(total), min(total), statistics.median(decode)
    print(json.dumps({
        "impl": "pytorch", "what": "generate", "prompt_tokens": args.prompt_tokens, "new_tokens": n, "runs": args.runs,
        "tokens_per_s": round(n * 1e3 / med, 2), "best_tokens_per_s": round(n * 1e3 / best, 2),
        "total_ms": round(med, 1), "min_total_ms": round(best, 1), "ttft_ms": round(statistics.median(ttft), 2),
        "decode_ms_per_token": round(dec, 3), "decode_tokens_per_s": round(1e3 / dec, 2) if dec else 0,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "threads": torch.get_num_threads(), "ids_hash": fnv1a(first), "first20": first[:20], "ids": first}),
        flush=True)


def check(folder, tol):
    with open(os.path.join(folder, "golden.json")) as f:
        golden = json.load(f)
    model = forward_torch.load(folder)
    failures = []
    for p in golden["prompts"]:
        ids = p["ids_with_bos"]
        g = p.get("greedy")
        n = g["n_new"] if g else 10
        new = generate(model, ids, n)
        # The cached path's logits at each step against a whole-context forward of the same sequence.
        logits, past = step(model, torch.tensor([ids]), None)
        seq = list(ids)
        worst = 0.0
        for t in new:
            whole = model(torch.tensor([seq]))[0, -1]
            worst = max(worst, (whole - logits).abs().max().item())
            seq.append(t)
            logits, past = step(model, torch.tensor([[t]]), past)
        ok = worst <= tol
        print(f"  {'ok  ' if ok else 'FAIL'} {p['text']!r}: cached logits vs whole context, max |diff| {worst:.2e}")
        if not ok:
            failures.append("cached logits")
        if g:
            ok = new == g["new_ids"]
            print(f"  {'ok  ' if ok else 'FAIL'} {p['text']!r}: greedy {n} tokens with the cache == golden")
            if not ok:
                failures.append("greedy")
    if failures:
        sys.exit(f"check FAILED: {', '.join(failures)}")
    print(f"check passed (tolerance {tol})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="HF GPT-2 folder to benchmark")
    ap.add_argument("--prompt-tokens", type=int, default=45)
    ap.add_argument("--new-tokens", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--warmups", type=int, default=2)
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="torch.set_num_threads (default: every core, as jlens uses; OpenBLAS keeps its own)")
    ap.add_argument("--check", metavar="FIXTURE", help="check the cached path against FIXTURE/golden.json")
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with torch.inference_mode():
        if args.check:
            check(args.check, args.tol)
        if args.model:
            benchmark(args)
        if not (args.check or args.model):
            ap.error("give --model DIR (benchmark) or --check FIXTURE")


if __name__ == "__main__":
    main()
