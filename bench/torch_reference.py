#!/usr/bin/python3
"""PyTorch peer for `deno task bench`: BERT question-answering training steps and evaluation.

`--model hf` (the default peer when `transformers` imports) times Hugging Face's
`BertForQuestionAnswering` built from a `BertConfig` with random weights (no hub access), in its
default attention implementation. `--model minimal` times an independent, minimal
BERT (embeddings + post-LN encoder layers + QA head, exact-erf GELU, dropout 0.1 as BERT's
defaults) with the same sizes, loss (mean of the start and end cross-entropies) and optimizer
(`torch.optim.AdamW`, lr 3e-5, weight decay 0.01 except biases and LayerNorm weights) as the
project's training step. Inputs are random token ids (seeded). It times whole training steps
(forward, backward, optimizer update) after warm-up and reports the median, plus evaluation
(forward without gradients) throughput, as one JSON object on stdout.

Run with any python that has torch: `python bench/torch_reference.py --model hf --layers 2 ...`
(`--model hf` exits with code 3 and a message when `transformers` does not import).
"""

import argparse
import json
import math
import resource
import statistics
import sys
import time

import torch
from torch import nn


class Layer(nn.Module):
    """One post-LayerNorm transformer encoder layer, as in BERT."""

    def __init__(self, hidden: int, heads: int, inter: int, drop: float, eps: float):
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.attn_out = nn.Linear(hidden, hidden)
        self.attn_ln = nn.LayerNorm(hidden, eps=eps)
        self.inter = nn.Linear(hidden, inter)
        self.out = nn.Linear(inter, hidden)
        self.out_ln = nn.LayerNorm(hidden, eps=eps)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor, additive_mask: torch.Tensor) -> torch.Tensor:
        b, t, h = x.shape
        dh = h // self.heads

        def split(y: torch.Tensor) -> torch.Tensor:
            return y.view(b, t, self.heads, dh).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(dh) + additive_mask
        probs = self.drop(torch.softmax(scores, dim=-1))
        ctx = torch.matmul(probs, v).transpose(1, 2).reshape(b, t, h)
        x = self.attn_ln(self.drop(self.attn_out(ctx)) + x)
        y = self.out(nn.functional.gelu(self.inter(x)))  # exact erf GELU (HF "gelu")
        return self.out_ln(self.drop(y) + x)


class BertQa(nn.Module):
    """BERT encoder + `qa_outputs` head (no pooler, like BertForQuestionAnswering)."""

    def __init__(self, a: argparse.Namespace):
        super().__init__()
        self.word = nn.Embedding(a.vocab, a.hidden, padding_idx=0)
        self.pos = nn.Embedding(a.max_pos, a.hidden)
        self.tok_type = nn.Embedding(2, a.hidden)
        self.emb_ln = nn.LayerNorm(a.hidden, eps=1e-12)
        self.drop = nn.Dropout(0.1)
        self.layers = nn.ModuleList(
            [Layer(a.hidden, a.heads, a.inter, 0.1, 1e-12) for _ in range(a.layers)]
        )
        self.qa = nn.Linear(a.hidden, 2)
        for m in self.modules():  # HF _init_weights: normal(0, 0.02), zero biases
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)
            if isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)

    def forward(self, ids, types, mask):
        t = ids.shape[1]
        pos = torch.arange(t).unsqueeze(0)
        x = self.drop(self.emb_ln(self.word(ids) + self.tok_type(types) + self.pos(pos)))
        additive = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            x = layer(x, additive)
        logits = self.qa(x)
        return logits[..., 0], logits[..., 1]


class HfQa(nn.Module):
    """transformers' BertForQuestionAnswering behind the same (ids, types, mask) interface."""

    def __init__(self, a: argparse.Namespace):
        super().__init__()
        import transformers  # noqa: PLC0415 (optional dependency)

        config = transformers.BertConfig(
            vocab_size=a.vocab,
            hidden_size=a.hidden,
            num_hidden_layers=a.layers,
            num_attention_heads=a.heads,
            intermediate_size=a.inter,
            max_position_embeddings=a.max_pos,
            hidden_act="gelu",
        )
        self.bert_qa = transformers.BertForQuestionAnswering(config)
        self.version = transformers.__version__
        self.attn = getattr(config, "_attn_implementation", None) or "default"

    def forward(self, ids, types, mask):
        out = self.bert_qa(input_ids=ids, token_type_ids=types, attention_mask=mask)
        return out.start_logits, out.end_logits


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", choices=["minimal", "hf"], default="minimal")
    p.add_argument("--layers", type=int, required=True)
    p.add_argument("--hidden", type=int, required=True)
    p.add_argument("--heads", type=int, required=True)
    p.add_argument("--inter", type=int, required=True)
    p.add_argument("--seq", type=int, required=True)
    p.add_argument("--batch", type=int, required=True)
    p.add_argument("--vocab", type=int, default=21128)
    p.add_argument("--max-pos", dest="max_pos", type=int, default=512)
    p.add_argument("--steps", type=int, default=10, help="timed training steps")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--eval-steps", dest="eval_steps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--budget-s", dest="budget_s", type=float, default=0,
                   help="stop timing steps once this many seconds were spent (0: no limit)")
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    if a.model == "hf":
        try:
            model = HfQa(a)
        except ImportError as e:
            print(f"transformers does not import: {e}", file=sys.stderr)
            sys.exit(3)
    else:
        model = BertQa(a)
    no_decay = ("bias", "LayerNorm.weight", "_ln.weight")
    named = list(model.named_parameters())
    groups = [
        {"params": [w for n, w in named if not any(s in n for s in no_decay)],
         "weight_decay": 0.01},
        {"params": [w for n, w in named if any(s in n for s in no_decay)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=3e-5)
    g = torch.Generator().manual_seed(a.seed + 1)
    b, t = a.batch, a.seq
    ids = torch.randint(1, a.vocab, (b, t), generator=g)
    types = torch.zeros(b, t, dtype=torch.long)
    types[:, t // 2:] = 1
    mask = torch.ones(b, t, dtype=torch.long)
    start = torch.randint(0, t, (b,), generator=g)
    end = torch.randint(0, t, (b,), generator=g)
    ce = nn.CrossEntropyLoss()

    def train_step() -> float:
        s_logits, e_logits = model(ids, types, mask)
        loss = (ce(s_logits, start) + ce(e_logits, end)) / 2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return float(loss)

    model.train()
    for _ in range(a.warmup):
        train_step()
    times = []
    began = time.perf_counter()
    loss = float("nan")
    for _ in range(a.steps):
        t0 = time.perf_counter()
        loss = train_step()
        times.append(time.perf_counter() - t0)
        if a.budget_s and time.perf_counter() - began > a.budget_s and len(times) >= 3:
            break
    model.eval()
    eval_times = []
    with torch.no_grad():
        model(ids, types, mask)
        for _ in range(a.eval_steps):
            t0 = time.perf_counter()
            model(ids, types, mask)
            eval_times.append(time.perf_counter() - t0)
    step_s = statistics.median(times)
    eval_s = statistics.median(eval_times)
    out = {
        "model": a.model,
        "transformers": getattr(model, "version", None),
        "attn_implementation": getattr(model, "attn", None),
        "batch": b,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "params": sum(w.numel() for w in model.parameters()),
        "steps": len(times),
        "step_ms_median": step_s * 1e3,
        "step_ms_all": [round(x * 1e3, 2) for x in times],
        "train_tokens_per_s": b * t / step_s,
        "eval_ms_median": eval_s * 1e3,
        "eval_tokens_per_s": b * t / eval_s,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "last_loss": loss,
    }
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
