#!/usr/bin/env python3
"""PyTorch reference for `npm run bench -w @posenc/irpe-vision`.

Builds the same ViTs as `src/bench/vit-step-bench.ts` (core's ViT: patch projection, class token,
DeiT's learned absolute table, pre-LN layers with tanh GELU and LayerNorm eps 1e-5, final norm,
linear head) and, for `*_irpe_k`, iRPE on keys as the official code's fallback path computes it
(contextual product tables shared by the heads, ratio 1.9, 50 buckets with the class token's):
q/sqrt(d) @ W for every bucket, then one gather by a precomputed flat index. Times a forward and
backward pass (`*_fwd_bwd`) and a training step with AdamW (`*_train_step`, cross-entropy, weight
decay 0.05 on matrices), and prints one JSON object:
{"torch": version, "threads": n, "results": [{"workload", "median_ms", "min_ms", "max_ms", "runs"}]}.

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


def piecewise_index(x, alpha, beta, gamma):
    """Eq. 18 as the official code computes it: round half to even, clip at float beta, truncate."""
    x = torch.as_tensor(x, dtype=torch.float32)
    out = x.round()
    far = x.abs() > alpha
    mag = (alpha + torch.log(x.abs()[far] / alpha) / math.log(gamma / alpha) * (beta - alpha)).round().clip(max=beta)
    out[far] = torch.sign(x[far]) * mag
    return out.to(torch.long)


def product_bucket_ids(h, w, skip, ratio=1.9):
    alpha, beta, gamma = ratio, 2 * ratio, 8 * ratio
    beta_int = int(beta)
    rows = torch.arange(h).view(h, 1).repeat(1, w).flatten()
    cols = torch.arange(w).view(1, w).repeat(h, 1).flatten()
    dr = rows.view(-1, 1) - rows.view(1, -1)
    dc = cols.view(-1, 1) - cols.view(1, -1)
    s = 2 * beta_int + 1
    ids = (piecewise_index(dr, alpha, beta, gamma) + beta_int) * s + piecewise_index(dc, alpha, beta, gamma) + beta_int
    buckets = s * s
    if skip > 0:
        n = skip + h * w
        full = torch.full((n, n), buckets, dtype=torch.long)
        full[skip:, skip:] = ids
        ids, buckets = full, buckets + 1
    return ids, buckets


class Layer(torch.nn.Module):
    """Pre-LN layer as core's TransformerLayer: x + attn(ln1(x)); h + ffn(ln2(h))."""

    def __init__(self, d, heads, ffn, rpe_buckets=None, flat_index=None):
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
        self.rpe_k = None
        if rpe_buckets is not None:
            self.rpe_k = torch.nn.Parameter(torch.zeros(1, d // heads, rpe_buckets))
            self.register_buffer("flat_index", flat_index)

    def split(self, x):
        b, n, c = x.shape
        return x.view(b, n, self.heads, c // self.heads).transpose(1, 2)

    def attention(self, q, k, v):
        scale = q.shape[-1] ** -0.5
        q = q * scale
        scores = q @ k.transpose(-1, -2)
        if self.rpe_k is not None:
            b, h, n, _ = q.shape
            lookup = torch.matmul(q.transpose(0, 1).reshape(-1, b * n, q.shape[-1]), self.rpe_k)
            lookup = lookup.view(-1, b, n, self.rpe_k.shape[-1]).transpose(0, 1)
            scores = scores + lookup.flatten(2)[:, :, self.flat_index].view(b, h, n, n)
        return torch.softmax(scores, dim=-1) @ v

    def forward(self, x):
        b, n, c = x.shape
        h = self.norm1(x)
        o = self.attention(self.split(self.wq(h)), self.split(self.wk(h)), self.split(self.wv(h)))
        x = x + self.wo(o.transpose(1, 2).reshape(b, n, c))
        return x + self.ffn_out(F.gelu(self.ffn_in(self.norm2(x)), approximate="tanh"))


class ViT(torch.nn.Module):
    def __init__(self, s, irpe):
        super().__init__()
        d, p, side = s["modelDim"], s["patchSize"], s["imageSize"] // s["patchSize"]
        self.p = p
        self.proj = torch.nn.Linear(p * p * s["channels"], d)
        self.cls = torch.nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.pos = torch.nn.Parameter(torch.randn(1, side * side + 1, d) * 0.02)
        rpe_buckets = flat_index = None
        if irpe:
            ids, rpe_buckets = product_bucket_ids(side, side, 1)
            n = ids.shape[0]
            flat_index = (ids + torch.arange(0, n * rpe_buckets, rpe_buckets).view(-1, 1)).flatten()
        self.layers = torch.nn.ModuleList(
            Layer(d, s["heads"], s["ffnDim"], rpe_buckets, flat_index) for _ in range(s["layers"])
        )
        self.norm = torch.nn.LayerNorm(d, eps=1e-5)
        self.head = torch.nn.Linear(d, s["classes"])

    def forward(self, images):
        b, hgt, wid, c = images.shape
        p = self.p
        patches = images.view(b, hgt // p, p, wid // p, p, c).permute(0, 1, 3, 2, 4, 5).reshape(b, -1, p * p * c)
        x = torch.cat([self.cls.expand(b, -1, -1), self.proj(patches)], 1) + self.pos
        for layer in self.layers:
            x = layer(x)
        return self.head(self.norm(x)[:, 0])


def workloads(s):
    images = torch.randn(s["batch"], s["imageSize"], s["imageSize"], s["channels"])
    labels = torch.randint(0, s["classes"], (s["batch"],))

    def fwd_bwd(irpe):
        model = ViT(s, irpe)

        def step():
            model.zero_grad(set_to_none=True)
            F.cross_entropy(model(images), labels).backward()

        return step

    def train_step(irpe):
        model = ViT(s, irpe)
        decay = [p for p in model.parameters() if p.dim() > 1]
        no_decay = [p for p in model.parameters() if p.dim() <= 1]
        opt = torch.optim.AdamW(
            [{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
            lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
        )

        def step():
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(images), labels)
            loss.backward()
            opt.step()
            loss.item()

        return step

    return {
        "vit_fwd_bwd": lambda: fwd_bwd(False),
        "vit_irpe_k_fwd_bwd": lambda: fwd_bwd(True),
        "vit_train_step": lambda: train_step(False),
        "vit_irpe_k_train_step": lambda: train_step(True),
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", required=True, help="JSON object of the ViT's sizes and batch")
    parser.add_argument("--workloads", default="vit_fwd_bwd,vit_irpe_k_fwd_bwd,vit_train_step,vit_irpe_k_train_step")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 keeps the default")
    args = parser.parse_args()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    table = workloads(json.loads(args.sizes))
    results = []
    for wid in args.workloads.split(","):
        step = table[wid]()
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
        })
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "results": results}))


if __name__ == "__main__":
    main()
