"""A PyTorch peer of one `posenc bench lm` cell, to tell a difference in computation from a
difference in data: it reads what `export-run.ts` wrote (config, posenc's initial parameters,
every step's training windows, the evaluation segments), builds the same pre-LN decoder (tied
embeddings, final norm, tanh GELU, biases in every projection), trains it with torch.optim.AdamW
under posenc's schedule (linear warmup, cosine to 10%, clipping at 1, no decay on biases and
norms) and scores the segments in nonoverlapping windows.

ALiBi is the official construction (ofirpress/attention_with_linear_biases,
fairseq/models/transformer.py): `get_slopes`, `slopes * arange(maxpos)` added to the future mask,
q scaled by 1/sqrt(d) before q·kᵀ as fairseq's MultiheadAttention does.

  python3 torch_lm.py /tmp/ref [--init posenc|torch] [--steps N] [--log 100]

--init posenc: posenc's initial parameters (the same model, bit for bit);
--init torch:  PyTorch's defaults for the projections (nn.Linear: kaiming-uniform weights and
               uniform biases), N(0, 0.02) for the token embedding, as a typical reference is set up.
"""

import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F


def get_slopes(n):
    # Verbatim from ofirpress/attention_with_linear_biases fairseq/models/transformer.py.
    def get_slopes_power_of_2(n):
        start = 2 ** (-(2 ** -(math.log2(n) - 3)))
        ratio = start
        return [start * ratio**i for i in range(n)]

    if math.log2(n).is_integer():
        return get_slopes_power_of_2(n)
    closest_power_of_2 = 2 ** math.floor(math.log2(n))
    return (
        get_slopes_power_of_2(closest_power_of_2)
        + get_slopes(2 * closest_power_of_2)[0::2][: n - closest_power_of_2]
    )


def official_alibi_mask(heads, maxpos):
    """[H, maxpos, maxpos]: the future mask plus slopes * arange(maxpos), as fairseq adds it."""
    slopes = torch.Tensor(get_slopes(heads))
    alibi = slopes.unsqueeze(1).unsqueeze(1) * torch.arange(maxpos).unsqueeze(0).unsqueeze(0).expand(
        heads, -1, -1
    )
    alibi = alibi.view(heads, 1, maxpos)
    future = torch.triu(torch.full([maxpos, maxpos], float("-inf")), 1)
    return future.unsqueeze(0) + alibi


class Model(torch.nn.Module):
    def __init__(self, meta, values, init):
        super().__init__()
        self.meta = meta
        m = meta["config"]["model"]
        self.dim, self.heads, self.layers = m["modelDim"], m["heads"], m["layers"]
        self.method = meta["method"]
        self.p = torch.nn.ParameterDict()
        for entry in meta["parameters"]:
            key = entry["name"].replace(".", "__")
            self.p[key] = torch.nn.Parameter(torch.from_numpy(values[entry["name"]].copy()))
        if init == "torch":
            for entry in meta["parameters"]:
                name, shape = entry["name"], entry["shape"]
                if name.startswith("layers.") and (".attn." in name or ".ffn." in name):
                    fan_in = shape[0] if name.endswith("weight") else self._fan_in(name)
                    bound = 1 / math.sqrt(fan_in)
                    if name.endswith("weight"):
                        # nn.Linear's kaiming_uniform_(a=√5) on [out, in] gives U(±1/√fan_in).
                        torch.nn.init.uniform_(self.p[name.replace(".", "__")], -bound, bound)
                    else:
                        torch.nn.init.uniform_(self.p[name.replace(".", "__")], -bound, bound)
        self.alibi = (
            official_alibi_mask(self.heads, max(meta["config"]["evalLengths"]) + 1)
            if self.method == "alibi"
            else None
        )

    def _fan_in(self, bias_name):
        weight = bias_name[: -len("bias")] + "weight"
        for entry in self.meta["parameters"]:
            if entry["name"] == weight:
                return entry["shape"][0]
        raise KeyError(weight)

    def w(self, name):
        return self.p[name.replace(".", "__")]

    def linear(self, x, name):
        return x @ self.w(f"{name}.weight") + self.w(f"{name}.bias")

    def norm(self, x, name):
        return F.layer_norm(x, (self.dim,), self.w(f"{name}.weight"), self.w(f"{name}.bias"), 1e-5)

    def attention(self, x, layer):
        b, n, c = x.shape
        h, d = self.heads, c // self.heads
        name = f"layers.{layer}.attn"

        def split(t):  # [B,N,C] → [B*H, N, D], fairseq's layout
            return t.view(b, n, h, d).transpose(1, 2).reshape(b * h, n, d)

        q = split(self.linear(x, f"{name}.wq")) * (d**-0.5)
        k = split(self.linear(x, f"{name}.wk"))
        v = split(self.linear(x, f"{name}.wv"))
        scores = torch.bmm(q, k.transpose(1, 2))
        if self.alibi is not None:
            scores = scores + self.alibi[:, :n, :n].repeat(b, 1, 1)
        else:
            scores = scores + torch.triu(torch.full([n, n], float("-inf")), 1)
        out = torch.bmm(torch.softmax(scores, -1), v)
        out = out.view(b, h, n, d).transpose(1, 2).reshape(b, n, c)
        return self.linear(out, f"{name}.wo")

    def forward(self, tokens):
        emb = self.w("embed.tokens.weight")
        x = emb[tokens]
        if self.method == "sinusoidal_not_supported":
            raise NotImplementedError
        for layer in range(self.layers):
            x = x + self.attention(self.norm(x, f"layers.{layer}.norm1"), layer)
            hidden = F.gelu(self.linear(self.norm(x, f"layers.{layer}.norm2"), f"layers.{layer}.ffn.in"), approximate="tanh")
            x = x + self.linear(hidden, f"layers.{layer}.ffn.out")
        return self.norm(x, "final_norm") @ emb.t()


def lr_multiplier(step, schedule, steps):
    warmup, floor = schedule["warmupSteps"], schedule["minLrRatio"]
    if step < warmup:
        return (step + 1) / warmup
    progress = min(1.0, max(0.0, (step - warmup) / max(1, steps - warmup)))
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def nonoverlapping(model, segments, length):
    nll, count = 0.0, 0
    with torch.no_grad():
        for segment in segments:
            targets = len(segment) - 1
            for start in range(0, targets, length):
                size = min(length, targets - start)
                x = torch.from_numpy(segment[start : start + size].astype(np.int64)).unsqueeze(0)
                y = torch.from_numpy(segment[start + 1 : start + 1 + size].astype(np.int64))
                logits = model(x)[0]
                nll += F.cross_entropy(logits, y, reduction="sum").item()
                count += size
    return math.exp(nll / count)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--init", choices=["posenc", "torch"], default="posenc")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--log", type=int, default=100)
    parser.add_argument("--no-eval", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)

    meta = json.load(open(os.path.join(args.folder, "meta.json")))
    flat = np.fromfile(os.path.join(args.folder, "params.bin"), dtype=np.float32)
    values, offset = {}, 0
    for entry in meta["parameters"]:
        size = int(np.prod(entry["shape"]))
        values[entry["name"]] = flat[offset : offset + size].reshape(entry["shape"])
        offset += size
    config, plan = meta["config"], meta["training"]
    steps = args.steps or plan["steps"]
    L, batch = config["trainLength"], config["batch"]
    windows = np.fromfile(os.path.join(args.folder, "train.bin"), dtype=np.int32).reshape(-1, batch, L + 1)
    eval_flat = np.fromfile(os.path.join(args.folder, "eval.bin"), dtype=np.int32)
    segments, offset = [], 0
    for n in meta["segmentLengths"]:
        segments.append(eval_flat[offset : offset + n])
        offset += n

    model = Model(meta, values, args.init)
    decay = [p for k, p in model.p.items() if p.dim() >= 2 and "norm" not in k]
    no_decay = [p for k, p in model.p.items() if not (p.dim() >= 2 and "norm" not in k)]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": plan["weightDecay"]}, {"params": no_decay, "weight_decay": 0.0}],
        lr=plan["lr"],
        betas=(0.9, 0.999),
        eps=1e-8,
    )
    started = time.time()
    losses = []
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = plan["lr"] * lr_multiplier(step, plan["schedule"], plan["steps"])
        w = torch.from_numpy(windows[step].astype(np.int64))
        logits = model(w[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), w[:, 1:].reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), plan["clipNorm"])
        optimizer.step()
        losses.append(loss.item())
        if (step + 1) % args.log == 0 or step == 0:
            print(f"step {step + 1} loss {loss.item():.4f} ({time.time() - started:.0f} s)", flush=True)
    tail = losses[int(len(losses) * 0.9) :]  # posenc's finalLoss: the mean of the last tenth
    print(f"final loss (mean of the last {len(tail)} steps) {sum(tail) / len(tail):.4f}")
    if not args.no_eval:
        figures = {n: nonoverlapping(model, segments, n) for n in config["evalLengths"]}
        print(
            f"{meta['method']} init={args.init} nonoverlapping "
            + " ".join(f"{n}: {p:.3f}" for n, p in figures.items())
        )


if __name__ == "__main__":
    main()
