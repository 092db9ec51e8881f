#!/usr/bin/env python3
"""PyTorch reference for `npm run bench -w @posenc/kernels`.

Builds the same workloads as `src/bench/workloads.ts` (same shapes and math: causal mask
added after the 1/sqrt(D) scaling, tanh GELU, pre-LN, tied embeddings, sum of the output as the
loss, AdamW with core's defaults: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01 on
matrices only; the harness step as `posenc bench lm` trains: cross-entropy, clipping to norm 1,
AdamW with weight decay 0.01, the loss read back) and prints one JSON object: {"torch": version, "threads": n, "results": [...]},
each result {"workload", "median_ms", "min_ms", "max_ms", "runs", "tokens"}.

Install PyTorch from Debian: apt-get install -y python3-torch
"""
import argparse
import json
import math
import statistics
import sys
import time

try:
    import torch
    import torch.nn.functional as F
except ImportError:  # the bench prints the install hint
    print(json.dumps({"error": "pytorch: not installed"}))
    sys.exit(3)


def causal_mask(n):
    # core's causalMask: 0 where the key is visible, -1e9 elsewhere (not -inf: padded rows stay finite)
    keep = torch.ones(n, n, dtype=torch.bool).tril()
    return torch.zeros(n, n).masked_fill(~keep, -1e9)


def attention(q, k, v, mask):
    scores = q @ k.transpose(-1, -2) * (1.0 / math.sqrt(q.shape[-1])) + mask
    return torch.softmax(scores, dim=-1) @ v


def rotate(x, cos, sin):
    # RoPE with interleaved pairs (2i, 2i+1), the rope encoding's default layout (RoFormer)
    x1, x2 = x[..., 0::2], x[..., 1::2]
    return torch.stack((x1 * cos - x2 * sin, x2 * cos + x1 * sin), dim=-1).flatten(-2)


def rotary_tables(n, d):
    inv = 1.0 / (10000 ** (torch.arange(0, d, 2, dtype=torch.float32) / d))
    angles = torch.arange(n, dtype=torch.float32)[:, None] * inv[None, :]
    return angles.cos(), angles.sin()


class Layer(torch.nn.Module):
    """Pre-LN layer as core's TransformerLayer: x + attn(ln1(x)); h + ffn(ln2(h))."""

    def __init__(self, d, heads, ffn):
        super().__init__()
        self.heads = heads
        self.norm1 = torch.nn.LayerNorm(d, eps=1e-5)
        self.norm2 = torch.nn.LayerNorm(d, eps=1e-5)
        self.wq, self.wk, self.wv, self.wo = (torch.nn.Linear(d, d) for _ in range(4))
        self.ffn_in = torch.nn.Linear(d, ffn)
        self.ffn_out = torch.nn.Linear(ffn, d)
        for p in self.parameters():
            if p.dim() == 2:
                torch.nn.init.normal_(p, std=0.02)

    def split(self, x):
        b, n, c = x.shape
        return x.view(b, n, self.heads, c // self.heads).transpose(1, 2)

    def forward(self, x, mask):
        b, n, c = x.shape
        h = self.norm1(x)
        o = attention(self.split(self.wq(h)), self.split(self.wk(h)), self.split(self.wv(h)), mask)
        x = x + self.wo(o.transpose(1, 2).reshape(b, n, c))
        return x + self.ffn_out(F.gelu(self.ffn_in(self.norm2(x)), approximate="tanh"))


class LM(torch.nn.Module):
    def __init__(self, vocab, d, layers, heads):
        super().__init__()
        self.embed = torch.nn.Embedding(vocab, d)
        torch.nn.init.normal_(self.embed.weight, std=0.02)
        self.layers = torch.nn.ModuleList(Layer(d, heads, 4 * d) for _ in range(layers))
        self.final_norm = torch.nn.LayerNorm(d, eps=1e-5)

    def forward(self, tokens, mask):
        h = self.embed(tokens)
        for layer in self.layers:
            h = layer(h, mask)
        return self.final_norm(h) @ self.embed.weight.t()  # tied embeddings


def workloads(s):
    b, hd, n, d = s["batch"], s["heads"], s["length"], s["headDim"]
    mask = causal_mask(n)

    def attention_setup(rotary):
        q, k, v = (torch.randn(b, hd, n, d, requires_grad=True) for _ in range(3))
        cos, sin = rotary_tables(n, d)

        def step():
            qq, kk = (rotate(q, cos, sin), rotate(k, cos, sin)) if rotary else (q, k)
            for t in (q, k, v):
                t.grad = None
            attention(qq, kk, v, mask).sum().backward()

        return step, None

    def layer_setup():
        layer = Layer(s["modelDim"], hd, s["ffnDim"])
        x = torch.randn(b, n, s["modelDim"])

        def step():
            layer.zero_grad(set_to_none=True)
            layer(x, mask).sum().backward()

        return step, None

    def adamw(lm, lr):
        decay = [p for p in lm.parameters() if p.dim() > 1]
        no_decay = [p for p in lm.parameters() if p.dim() <= 1]
        return torch.optim.AdamW(
            [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
            lr=lr, betas=(0.9, 0.999), eps=1e-8,
        )

    def lm_setup():
        lm = LM(s["vocab"], s["lmDim"], s["lmLayers"], s["lmHeads"])
        opt = adamw(lm, 1e-3)
        tokens = torch.randint(0, s["vocab"], (s["lmBatch"], n + 1))
        inputs, targets = tokens[:, :-1], tokens[:, 1:]

        def step():
            opt.zero_grad(set_to_none=True)
            logits = lm(inputs, mask)
            F.cross_entropy(logits.reshape(-1, s["vocab"]), targets.reshape(-1)).backward()
            opt.step()

        return step, s["lmBatch"] * n

    def harness_setup():
        h = s["harness"]
        hb, hn = h["batch"], h["length"]
        lm = LM(s["vocab"], h["modelDim"], h["layers"], h["heads"])
        opt = adamw(lm, 3e-3)
        text = torch.randint(0, 256, (1 << 20,))
        hmask = causal_mask(hn)

        def step():
            starts = torch.randint(0, text.numel() - hn - 1, (hb,))
            windows = torch.stack([text[i : i + hn + 1] for i in starts.tolist()])
            opt.zero_grad(set_to_none=True)
            logits = lm(windows[:, :-1], hmask)
            loss = F.cross_entropy(logits.reshape(-1, s["vocab"]), windows[:, 1:].reshape(-1))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(lm.parameters(), 1.0)
            opt.step()
            loss.item()

        return step, hb * hn

    return {
        "attention": lambda: attention_setup(False),
        "rotary_attention": lambda: attention_setup(True),
        "transformer_layer": layer_setup,
        "lm_train_step": lm_setup,
        "harness_lm_step": harness_setup,
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", required=True, help="JSON object of workload sizes")
    parser.add_argument("--workloads", default="attention,rotary_attention,transformer_layer,lm_train_step,harness_lm_step")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 keeps the default")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    table = workloads(json.loads(args.sizes))
    results = []
    for wid in args.workloads.split(","):
        step, tokens = table[wid]()
        for _ in range(args.warmup):
            step()
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            step()
            times.append((time.perf_counter() - start) * 1000)
        results.append({
            "workload": wid,
            "median_ms": statistics.median(times),
            "min_ms": min(times),
            "max_ms": max(times),
            "runs": len(times),
            "tokens": tokens,
        })
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "results": results}))


if __name__ == "__main__":
    main()
