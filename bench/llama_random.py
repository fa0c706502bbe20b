#!/usr/bin/python3
"""Writes a Llama-3.2-1B-shaped model with random bfloat16 weights in the Hugging Face layout.

    /usr/bin/python3 bench/llama_random.py --out bench/out/llama-1b-random
    /usr/bin/python3 bench/llama_random.py --out /tmp/llama-small --layers 2 --d-model 256 --heads 8 \\
        --kv-heads 2 --d-mlp 512 --vocab 1000

config.json as Llama 3.2 1B's (rope_theta 500000, rope_scaling llama3 factor 32, tied embeddings,
torch_dtype bfloat16) and model.safetensors written tensor by tensor, in blocks of rows: the generator holds at
most 4M values at a time (peak RSS ~330 MB, torch itself ~250 MB, whatever the shape). Weights are N(0, 0.02)
(norm weights 1), so activations stay finite through the layers.
"""
import argparse
import json
import os
import struct

import torch

CHUNK = 1 << 22   # values drawn and written at a time (16 MB as float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--layers", type=int, default=16)
    ap.add_argument("--d-model", type=int, default=2048)
    ap.add_argument("--heads", type=int, default=32)
    ap.add_argument("--kv-heads", type=int, default=8)
    ap.add_argument("--d-mlp", type=int, default=8192)
    ap.add_argument("--vocab", type=int, default=128256)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    d, hd = a.d_model, a.d_model // a.heads
    os.makedirs(a.out, exist_ok=True)
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "attention_bias": False, "mlp_bias": False,
        "hidden_act": "silu", "hidden_size": d, "intermediate_size": a.d_mlp, "num_hidden_layers": a.layers,
        "num_attention_heads": a.heads, "num_key_value_heads": a.kv_heads, "head_dim": hd,
        "max_position_embeddings": 131072, "rms_norm_eps": 1e-5, "rope_theta": 500000.0,
        "rope_scaling": {"rope_type": "llama3", "factor": 32.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                         "original_max_position_embeddings": 8192},
        "tie_word_embeddings": True, "torch_dtype": "bfloat16", "vocab_size": a.vocab, "bos_token_id": 128000,
        "eos_token_id": 128001,
    }
    shapes = [("model.embed_tokens.weight", [a.vocab, d])]
    for i in range(a.layers):
        p = f"model.layers.{i}."
        shapes += [(p + "input_layernorm.weight", [d]), (p + "post_attention_layernorm.weight", [d]),
                   (p + "self_attn.q_proj.weight", [a.heads * hd, d]), (p + "self_attn.k_proj.weight", [a.kv_heads * hd, d]),
                   (p + "self_attn.v_proj.weight", [a.kv_heads * hd, d]), (p + "self_attn.o_proj.weight", [d, a.heads * hd]),
                   (p + "mlp.gate_proj.weight", [a.d_mlp, d]), (p + "mlp.up_proj.weight", [a.d_mlp, d]),
                   (p + "mlp.down_proj.weight", [d, a.d_mlp])]
    shapes.append(("model.norm.weight", [d]))
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in sorted(shapes):
        n = 2
        for s in shape:
            n *= s
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    gen = torch.Generator().manual_seed(a.seed)
    tmp = os.path.join(a.out, "model.safetensors.tmp")
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for name, shape in sorted(shapes):
            # In blocks of rows of at most CHUNK values: the 128,256 x 2,048 embedding alone would be 1 GB
            # as float32 (the draws are those of one generator in file order, so a seed gives one model).
            rows, row = shape[0], (shape[1] if len(shape) > 1 else 1)
            step = max(1, CHUNK // row)
            for r in range(0, rows, step):
                n = min(step, rows - r)
                if name.endswith("norm.weight"):
                    t = torch.ones(n, row)
                else:
                    t = torch.empty(n, row).normal_(0.0, 0.02, generator=gen)
                f.write(t.to(torch.bfloat16).view(torch.int16).numpy())
    os.replace(tmp, os.path.join(a.out, "model.safetensors"))
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    params = sum(torch.Size(s).numel() for _, s in shapes)
    print(f"wrote {a.out}: {params:,} parameters, model.safetensors {offset / 1e9:.2f} GB (bf16)")


if __name__ == "__main__":
    main()
