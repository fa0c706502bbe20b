#!/usr/bin/python3
"""The PyTorch peer of jlens's Llama forward-pass benchmark: a Llama with TransformerLens hooks.

    /usr/bin/python3 bench/forward_llama_torch.py --model bench/out/llama-1b-random --tokens 45,1024
    /usr/bin/python3 bench/forward_llama_torch.py --check src/test/data/fixtures/llama-tiny
    /usr/bin/python3 bench/forward_llama_torch.py --model DIR --against-jlens DUMP   # DUMP from `bench/run CacheDump`

Plain torch, Hugging Face semantics: RMSNorm, rotate-half rotary (with `rope_scaling` of type llama3),
grouped-query attention, SwiGLU, tied or untied head. Weights are read as float32 whatever the file
holds, as Hugging Face loads a checkpoint on CPU by default. Every TransformerLens hook point jlens
caches is an nn.Identity with TransformerLens's name, and `run_with_cache` stores each output in a dict,
as bench/forward_torch.py does for GPT-2 (whose loader, timing and output format this reuses).
"""
import argparse
import json
import math
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import forward_torch as common  # noqa: E402  (re-execs itself with the glibc settings only when run as a script)

if __name__ == "__main__" and any(os.environ.get(k) != v for k, v in common.MALLOC_ENV.items()):
    os.execve(sys.executable, [sys.executable] + sys.argv, {**os.environ, **common.MALLOC_ENV})

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


class RMSNorm(nn.Module):
    """hook_scale = sqrt(mean(x^2) + eps) [batch, pos, 1]; hook_normalized = x / scale * w."""

    def __init__(self, d, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.empty(d, device="meta"))
        self.hook_scale = nn.Identity()
        self.hook_normalized = nn.Identity()

    def forward(self, x):
        scale = self.hook_scale((x.pow(2).mean(-1, keepdim=True) + self.eps).sqrt())
        return self.hook_normalized(x / scale * self.weight)


def inv_freq(cfg):
    dim, base = cfg["head_dim"], cfg.get("rope_theta", 10000.0)
    freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    rs = cfg.get("rope_scaling") or {}
    if rs.get("rope_type", rs.get("type")) == "llama3":   # Hugging Face's _compute_llama3_parameters
        factor, low, high = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        old = rs["original_max_position_embeddings"]
        low_wavelen, high_wavelen = old / low, old / high
        wavelen = 2 * math.pi / freq
        scaled = torch.where(wavelen > low_wavelen, freq / factor, freq)
        smooth = (old / wavelen - low) / (high - low)
        smoothed = (1 - smooth) * scaled / factor + smooth * scaled
        medium = ~(wavelen < high_wavelen) & ~(wavelen > low_wavelen)
        freq = torch.where(medium, smoothed, scaled)
    return freq


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, self.nh, self.nkv, self.hd = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
        self.q_proj = nn.Linear(d, self.nh * self.hd, bias=False, device="meta")
        self.k_proj = nn.Linear(d, self.nkv * self.hd, bias=False, device="meta")
        self.v_proj = nn.Linear(d, self.nkv * self.hd, bias=False, device="meta")
        self.o_proj = nn.Linear(self.nh * self.hd, d, bias=False, device="meta")
        for name in ("q", "k", "v", "rot_q", "rot_k", "attn_scores", "pattern", "z"):
            setattr(self, "hook_" + name, nn.Identity())

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        q = self.hook_q(self.q_proj(x).view(B, T, self.nh, self.hd))     # (B, T, nh, hd)
        k = self.hook_k(self.k_proj(x).view(B, T, self.nkv, self.hd))    # (B, T, nkv, hd)
        v = self.hook_v(self.v_proj(x).view(B, T, self.nkv, self.hd))
        c, s = cos[:T, None, :], sin[:T, None, :]                         # (T, 1, hd)
        q = self.hook_rot_q(q * c + rotate_half(q) * s)
        k = self.hook_rot_k(k * c + rotate_half(k) * s)
        group = self.nh // self.nkv
        q = q.transpose(1, 2)                                             # (B, nh, T, hd)
        k = k.transpose(1, 2).repeat_interleave(group, dim=1)
        v = v.transpose(1, 2).repeat_interleave(group, dim=1)
        scores = torch.matmul(q, k.transpose(-2, -1)).mul_(1.0 / math.sqrt(self.hd))
        scores.masked_fill_(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
        scores = self.hook_attn_scores(scores)
        pattern = self.hook_pattern(F.softmax(scores, dim=-1))
        z = self.hook_z(torch.matmul(pattern, v).transpose(1, 2))        # (B, T, nh, hd)
        return self.o_proj(z.reshape(B, T, -1))


class MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, m = cfg["hidden_size"], cfg["intermediate_size"]
        self.gate_proj = nn.Linear(d, m, bias=False, device="meta")
        self.up_proj = nn.Linear(d, m, bias=False, device="meta")
        self.down_proj = nn.Linear(m, d, bias=False, device="meta")
        self.hook_pre = nn.Identity()          # TransformerLens: the gate's input
        self.hook_pre_linear = nn.Identity()   # the up projection
        self.hook_post = nn.Identity()

    def forward(self, x):
        pre = self.hook_pre(self.gate_proj(x))
        post = self.hook_post(F.silu(pre) * self.hook_pre_linear(self.up_proj(x)))
        return self.down_proj(post)


class Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        eps = cfg["rms_norm_eps"]
        self.ln1 = RMSNorm(cfg["hidden_size"], eps)
        self.attn = Attention(cfg)
        self.ln2 = RMSNorm(cfg["hidden_size"], eps)
        self.mlp = MLP(cfg)
        for name in ("resid_pre", "attn_out", "resid_mid", "mlp_out", "resid_post"):
            setattr(self, "hook_" + name, nn.Identity())

    def forward(self, x, cos, sin):
        x = self.hook_resid_pre(x)
        x = self.hook_resid_mid(x + self.hook_attn_out(self.attn(self.ln1(x), cos, sin)))
        return self.hook_resid_post(x + self.hook_mlp_out(self.mlp(self.ln2(x))))


class Llama(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"], device="meta")
        self.hook_embed = nn.Identity()
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg["num_hidden_layers"]))
        self.ln_final = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.lm_head = None   # the embedding when tied
        freqs = torch.outer(torch.arange(cfg["max_position_embeddings"], dtype=torch.float64), inv_freq(cfg))
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos", emb.cos().float(), persistent=False)
        self.register_buffer("sin", emb.sin().float(), persistent=False)

    def forward(self, idx):
        x = self.hook_embed(self.embed(idx))
        for block in self.blocks:
            x = block(x, self.cos, self.sin)
        return F.linear(self.ln_final(x), self.embed.weight if self.lm_head is None else self.lm_head)

    hook_points = common.GPT.hook_points
    add_caching_hooks = common.GPT.add_caching_hooks
    run_with_cache = common.GPT.run_with_cache


def load(folder):
    with open(os.path.join(folder, "config.json")) as f:
        hf = json.load(f)
    if hf.get("architectures") != ["LlamaForCausalLM"]:
        raise ValueError(f"{folder}: {hf.get('architectures')}: this peer implements LlamaForCausalLM only")
    cfg = dict(hf)
    cfg.setdefault("head_dim", hf["hidden_size"] // hf["num_attention_heads"])
    cfg["max_position_embeddings"] = min(hf.get("max_position_embeddings", 2048), 4096)
    # The names bench/forward_torch.py's benchmark loop prints and checks.
    cfg.update(n_layer=cfg["num_hidden_layers"], n_embd=cfg["hidden_size"], n_positions=cfg["max_position_embeddings"])
    sd = common.read_safetensors(os.path.join(folder, "model.safetensors"))   # float32, as HF on CPU
    model = Llama(cfg)
    mapping = {"embed.weight": "model.embed_tokens.weight", "ln_final.weight": "model.norm.weight"}
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        mapping.update({f"blocks.{i}.ln1.weight": p + "input_layernorm.weight",
                        f"blocks.{i}.ln2.weight": p + "post_attention_layernorm.weight"})
        for n in ("q", "k", "v", "o"):
            mapping[f"blocks.{i}.attn.{n}_proj.weight"] = p + f"self_attn.{n}_proj.weight"
        for n in ("gate", "up", "down"):
            mapping[f"blocks.{i}.mlp.{n}_proj.weight"] = p + f"mlp.{n}_proj.weight"
    head = sd.pop("lm_head.weight", None)
    unused, missing = set(sd) - set(mapping.values()), set(mapping.values()) - set(sd)
    if unused or missing:
        raise ValueError(f"{folder}: unused tensors {sorted(unused)[:5]}, missing {sorted(missing)[:5]}")
    for ours, theirs in mapping.items():
        module_name, pname = ours.rsplit(".", 1)
        module = model.get_submodule(module_name)
        t = sd.pop(theirs)
        assert t.shape == getattr(module, pname).shape, f"{theirs}: {tuple(t.shape)} in the file"
        setattr(module, pname, nn.Parameter(t, requires_grad=False))
    if head is not None and not hf.get("tie_word_embeddings", False):
        model.lm_head = head
    return model.eval()


def check(folder, tol):
    """llama2.c's golden values for the llama-tiny fixture: logits, resid_post, final norm, pattern, greedy ids."""
    with open(os.path.join(folder, "golden.json")) as f:
        golden = json.load(f)
    model = load(folder)
    failures = []

    def compare(what, got, want, atol):
        got, want = torch.as_tensor(got, dtype=torch.float64), torch.as_tensor(want, dtype=torch.float64)
        diff = (got - want).abs().max().item()
        ok = diff <= atol + 1e-5 * want.abs().max().item()
        print(f"  {'ok  ' if ok else 'FAIL'} {what:28s} max |diff| {diff:.2e}")
        if not ok:
            failures.append(what)
        return diff

    worst = 0.0
    with torch.no_grad():
        for s in golden["sequences"]:
            ids = torch.tensor([s["ids"]])
            logits, cache = model.run_with_cache(ids)
            worst = max(worst, compare("logits", logits[0], s["logits"], tol))
            L = model.cfg["num_hidden_layers"]
            compare("resid_post", torch.stack([cache[f"blocks.{l}.hook_resid_post"][0] for l in range(L)]), s["resid_post"], tol)
            compare("final_norm_out", cache["ln_final.hook_normalized"][0], s["final_norm_out"], tol)
            compare("final_norm_scale", cache["ln_final.hook_scale"][0, :, 0], s["final_norm_scale"], tol)
            compare("loss", F.cross_entropy(logits[0, :-1], ids[0, 1:]), s["loss"], tol)
            compare("attn_pattern_head1", torch.stack([cache[f"blocks.{l}.attn.hook_pattern"][0, 1] for l in range(L)]),
                    s["attn_pattern_head1"], 2e-5)
        g = golden["greedy"]
        seq = torch.tensor([g["prompt"]])
        for _ in range(g["n_new"]):
            seq = torch.cat([seq, model(seq)[:, -1].argmax(-1, keepdim=True)], 1)
        ok = seq[0, len(g["prompt"]):].tolist() == g["new_ids"]
        print(f"  {'ok  ' if ok else 'FAIL'} greedy {g['n_new']} tokens")
        if not ok:
            failures.append("greedy")
    if failures:
        sys.exit(f"check FAILED: {', '.join(failures)}")
    print(f"check passed: logits max |diff| {worst:.2e} (tolerance {tol})")


def against_jlens(folder, dump, rtol):
    """Every tensor of a `bench/run CacheDump` file (jlens's full cache and logits on the same folder) against
    this peer's on the same ids: the same hook point names and shapes, -inf at the same places, and
    max |diff| <= 1e-5 + rtol * max |jlens| per tensor."""
    with open(dump, "rb") as f:
        meta = json.loads(f.read(struct.unpack("<Q", f.read(8))[0]))["__metadata__"]
    theirs = common.read_safetensors(dump)
    ids = torch.tensor([[int(i) for i in meta["ids"].split(",")]])
    model = load(folder)
    with torch.no_grad():
        logits, ours = model.run_with_cache(ids)
    ours["logits"] = logits
    problems = []
    if set(ours) != set(theirs):
        problems.append(f"hook points only in jlens {sorted(set(theirs) - set(ours))[:5]}, "
                        f"only in the peer {sorted(set(ours) - set(theirs))[:5]}")
    worst, worst_name = 0.0, ""
    for name in sorted(set(ours) & set(theirs)):
        got, want = ours[name].double(), theirs[name].double()
        if got.shape != want.shape:
            problems.append(f"{name}: shape {tuple(got.shape)} here, {tuple(want.shape)} in jlens")
            continue
        finite = torch.isfinite(want)
        if not torch.equal(finite, torch.isfinite(got)) or not torch.equal(got[~finite], want[~finite]):
            problems.append(f"{name}: non-finite entries differ")
            continue
        scale = want[finite].abs().max().item() if finite.any() else 0.0
        diff = (got[finite] - want[finite]).abs().max().item() if finite.any() else 0.0
        if diff > 1e-5 + rtol * scale:
            problems.append(f"{name}: max |diff| {diff:.2e} (max |jlens| {scale:.2e})")
        if scale and diff / scale > worst:
            worst, worst_name = diff / scale, name
    for p in problems:
        print("  FAIL " + p)
    if problems:
        sys.exit(f"against jlens FAILED: {len(problems)} problems")
    d = (ours["logits"].double() - theirs["logits"].double()).abs().max().item()
    print(f"against jlens passed: {len(theirs) - 1} hook points and logits on {ids.shape[1]} tokens; logits max |diff| "
          f"{d:.2e}, worst relative max |diff| {worst:.1e} ({worst_name})")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="HF Llama folder to benchmark")
    ap.add_argument("--tokens", default="45,1024")
    ap.add_argument("--runs", default=None, help="timed runs per token count (default 5 up to 128 tokens, else 2)")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check", metavar="FIXTURE")
    ap.add_argument("--tol", type=float, default=1e-4)
    ap.add_argument("--against-jlens", metavar="DUMP", help="compare with jlens's cache on --model (bench/run CacheDump)")
    ap.add_argument("--rtol", type=float, default=1e-4, help="relative tolerance of --against-jlens")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.check:
        check(args.check, args.tol)
        return
    if args.against_jlens:
        against_jlens(args.model, args.against_jlens, args.rtol)
        return
    args.tokens = [int(t) for t in args.tokens.split(",")]
    args.runs = ([int(r) for r in args.runs.split(",")] if args.runs else [5 if t <= 128 else 2 for t in args.tokens])
    if len(args.runs) == 1:
        args.runs = args.runs * len(args.tokens)
    common.load = load
    with torch.no_grad():
        common.benchmark(args)


if __name__ == "__main__":
    main()
