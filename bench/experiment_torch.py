#!/usr/bin/python3
"""The PyTorch peer of `jlens experiment block-internals` for BENCHMARKS.md: the same work in the
lecture's model code (bench/train_torch.py's GPTLanguageModel, loading the same model.safetensors):
the split tiled into windows of the model's context, run through blocks 0..B in batches, and for
block B its input, its heads' outputs side by side (input of sa.proj), sa's output, ffwd's output and
its output at every position, each batch written as a safetensors file with the tensor names jlens
uses (tokens I32, blocks.B.hook_resid_pre, …), its SHA-256 in a manifest.json.

    /usr/bin/python3 bench/experiment_torch.py --model artifacts/shakespeare-char \\
        --data ../shared/data/tinyshakespeare/input.txt --block 1 --split val --batch-size 256 --out DIR

Prints one JSON line: {"impl":"pytorch","what":"block_internals","seconds":..,"samples":..,"bytes":..}.
Peak memory is measured from outside (/usr/bin/time), as for jlens.
"""
import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_torch import GPTLanguageModel, read_safetensors  # noqa: E402

COMPONENTS = ["hook_resid_pre", "attn.hook_z", "hook_attn_out", "hook_mlp_out", "hook_resid_post"]


def write_safetensors(path, tensors):
    """tensors: name -> numpy array (float32 or int32), written in order, data 8-byte aligned like jlens."""
    header, offset = {}, 0
    for name, a in tensors.items():
        dtype = {np.dtype(np.float32): "F32", np.dtype(np.int32): "I32"}[a.dtype]
        header[name] = {"dtype": dtype, "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - (8 + len(h)) % 8) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(len(h).to_bytes(8, "little"))
        f.write(h)
        for a in tensors.values():
            f.write(np.ascontiguousarray(a).tobytes())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def sha256(path):
    d = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            d.update(chunk)
    return d.hexdigest()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--block", type=int, required=True)
    p.add_argument("--split", choices=["train", "val", "all"], default="val")
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    torch.set_num_threads(1)  # DESIGN.md: OpenBLAS keeps its own threads; torch's extra ones made small shapes slower

    cfg = json.load(open(os.path.join(args.model, "config.json")))
    model = GPTLanguageModel(len(cfg["chars"]), cfg["n_embd"], cfg["n_head"], cfg["n_layer"], cfg["block_size"], 0.0)
    sd = read_safetensors(os.path.join(args.model, "model.safetensors"))
    missing, unexpected = model.load_state_dict(sd, strict=False)
    if [k for k in missing if not k.endswith(".tril")] or unexpected:
        sys.exit(f"experiment_torch: state_dict mismatch: {missing}, {unexpected}")
    model.eval()

    stoi = {c: i for i, c in enumerate(cfg["chars"])}
    text = open(args.data, encoding="utf-8").read()
    data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    n = int(0.9 * len(data))
    split = {"train": data[:n], "val": data[n:], "all": data}[args.split]
    T = cfg["block_size"]
    windows = split.unfold(0, T, T)                                      # (N, T): seed 002's DataBatcher, stride = T

    block = model.blocks[args.block]
    captured = {}
    hooks = [
        block.register_forward_pre_hook(lambda m, inp: captured.__setitem__("hook_resid_pre", inp[0])),
        block.sa.proj.register_forward_pre_hook(lambda m, inp: captured.__setitem__("attn.hook_z", inp[0])),
        block.sa.register_forward_hook(lambda m, inp, out: captured.__setitem__("hook_attn_out", out)),
        block.ffwd.register_forward_hook(lambda m, inp, out: captured.__setitem__("hook_mlp_out", out)),
        block.register_forward_hook(lambda m, inp, out: captured.__setitem__("hook_resid_post", out)),
    ]
    os.makedirs(args.out, exist_ok=True)
    batches = []
    started = time.perf_counter()   # the batches only, as jlens's "done: … (s)" line
    with torch.inference_mode():
        for b, start in enumerate(range(0, len(windows), args.batch_size)):
            idx = windows[start:start + args.batch_size]
            x = model.token_embedding_table(idx) + model.position_embedding_table(torch.arange(T))  # (B, T, C)
            for i in range(args.block + 1):                              # stop after the block: no logits needed
                x = model.blocks[i](x)
            tensors = {"tokens": idx.to(torch.int32).numpy()}
            for c in COMPONENTS:
                tensors[f"blocks.{args.block}.{c}"] = captured[c].numpy()
            name = f"batch-{b:05d}.safetensors"
            path = os.path.join(args.out, name)
            write_safetensors(path, tensors)
            batches.append({"index": b, "file": name, "samples": len(idx), "bytes": os.path.getsize(path), "sha256": sha256(path)})
    for h in hooks:
        h.remove()
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump({"model": args.model, "split": args.split, "block": args.block, "batches": batches}, f, indent=1)
    seconds = time.perf_counter() - started
    total = sum(b["bytes"] for b in batches) + os.path.getsize(os.path.join(args.out, "manifest.json"))
    print(json.dumps({"impl": "pytorch", "what": "block_internals", "seconds": round(seconds, 3),
                      "samples": len(windows), "batches": len(batches), "bytes": total}))


if __name__ == "__main__":
    main()
