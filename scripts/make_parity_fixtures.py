#!/usr/bin/python3
"""Makes the tiny BERT parity fixtures under tests/fixtures/parity/.

Run with Debian's Python (it has torch):  /usr/bin/python3 scripts/make_parity_fixtures.py

Writes:
  config.json                 tiny BERT config (vocab 100, hidden 32, 2 layers, 4 heads)
  pytorch_model.bin           torch.save(model.state_dict()) of a module tree with Hugging Face
                              names; cls.predictions.decoder.weight shares storage with the word
                              embeddings and decoder.bias with cls.predictions.bias, as in real
                              checkpoints
  model.safetensors           the same weights (tied duplicates left out, as transformers does),
                              written by hand: u64 LE header length + JSON header + raw data
  legacy/pytorch_model.bin    old-style names (LayerNorm.gamma/beta, no `bert.` prefix on the
                              embeddings), tensors stored as float16 and bfloat16, in the legacy
                              (pre-1.6, non-zip) torch.save format
  legacy/config.json
  reference.json              inputs and outputs of an independent float64 PyTorch forward
                              written here from the BERT equations (transformers is not used)
  hostile/*.bin               files the loader must refuse (pickles calling os.system/eval,
                              an unknown opcode)

Every weight is rounded to a value exactly representable in bfloat16 and float16, so all files
hold the same numbers and one reference serves them all.
"""
import collections
import json
import math
import os
import struct
import zipfile

import torch
from torch import nn

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "parity")
CONFIG = {
    "architectures": ["BertForMaskedLM"],
    "attention_probs_dropout_prob": 0.1,
    "classifier_dropout": None,
    "directionality": "bidi",
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": 32,
    "initializer_range": 0.02,
    "intermediate_size": 64,
    "layer_norm_eps": 1e-12,
    "max_position_embeddings": 64,
    "model_type": "bert",
    "num_attention_heads": 4,
    "num_hidden_layers": 2,
    "pad_token_id": 0,
    "pooler_fc_size": 32,
    "position_embedding_type": "absolute",
    "type_vocab_size": 2,
    "use_cache": True,
    "vocab_size": 100,
}
V, H, L, NH, I, P = 100, 32, 2, 4, 64, 64


def exact(t):
    """Rounds to bfloat16, then zeroes values float16 cannot hold exactly."""
    t = t.to(torch.bfloat16).to(torch.float32)
    ok = t.to(torch.float16).to(torch.float32) == t
    return torch.where(ok, t, torch.zeros_like(t))


class Node(nn.Module):
    pass


def linear(o, i):
    m = nn.Linear(i, o)
    return m


def layer_norm():
    return nn.LayerNorm(H, eps=CONFIG["layer_norm_eps"])


def build_module():
    root = Node()
    bert = Node()
    emb = Node()
    emb.word_embeddings = nn.Embedding(V, H)
    emb.position_embeddings = nn.Embedding(P, H)
    emb.token_type_embeddings = nn.Embedding(2, H)
    emb.LayerNorm = layer_norm()
    bert.embeddings = emb
    enc = Node()
    layers = []
    for _ in range(L):
        layer = Node()
        att = Node()
        sa = Node()
        sa.query, sa.key, sa.value = linear(H, H), linear(H, H), linear(H, H)
        att.self = sa
        ao = Node()
        ao.dense, ao.LayerNorm = linear(H, H), layer_norm()
        att.output = ao
        layer.attention = att
        inter = Node()
        inter.dense = linear(I, H)
        layer.intermediate = inter
        out = Node()
        out.dense, out.LayerNorm = linear(H, I), layer_norm()
        layer.output = out
        layers.append(layer)
    enc.layer = nn.ModuleList(layers)
    bert.encoder = enc
    pooler = Node()
    pooler.dense = linear(H, H)
    bert.pooler = pooler
    root.bert = bert
    cls = Node()
    pred = Node()
    tr = Node()
    tr.dense, tr.LayerNorm = linear(H, H), layer_norm()
    pred.transform = tr
    pred.bias = nn.Parameter(torch.zeros(V))
    pred.decoder = nn.Linear(H, V)
    cls.predictions = pred
    root.cls = cls
    root.classifier = linear(1, H)
    root.qa_outputs = linear(2, H)
    with torch.no_grad():
        for name, p in root.named_parameters():
            if "LayerNorm.weight" in name:
                p.copy_(exact(1 + 0.1 * torch.randn_like(p)))
            elif name.endswith("bias"):
                p.copy_(exact(0.1 * torch.randn_like(p)))
            elif "embeddings" in name:
                p.copy_(exact(0.5 * torch.randn_like(p)))
            else:
                p.copy_(exact(torch.randn_like(p) / math.sqrt(p.shape[1])))
    # Tie like BertLMPredictionHead: decoder.weight = word embeddings, decoder.bias = bias.
    pred.decoder.weight = emb.word_embeddings.weight
    pred.decoder.bias = pred.bias
    return root


def gelu(x):
    return 0.5 * x * (1 + torch.erf(x / math.sqrt(2)))


def ln(x, sd, prefix):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(var + CONFIG["layer_norm_eps"]) * sd[prefix + ".weight"] + sd[prefix + ".bias"]


def lin(x, sd, prefix):
    return x @ sd[prefix + ".weight"].T + sd[prefix + ".bias"]


def encoder(sd, ids, tt, mask):
    """The BERT encoder from its equations, float64. Returns (last_hidden_state, pooled)."""
    B, T = ids.shape
    e = "bert.embeddings."
    x = sd[e + "word_embeddings.weight"][ids] + sd[e + "position_embeddings.weight"][:T][None] \
        + sd[e + "token_type_embeddings.weight"][tt]
    x = ln(x, sd, e + "LayerNorm")
    # Additive mask as transformers builds it: (1 - mask) * finfo(float32).min.
    ext = (1.0 - mask.double())[:, None, None, :] * torch.finfo(torch.float32).min
    dh = H // NH
    for l in range(L):
        p = f"bert.encoder.layer.{l}."

        def heads(t):
            return t.view(B, T, NH, dh).permute(0, 2, 1, 3)

        q = heads(lin(x, sd, p + "attention.self.query"))
        k = heads(lin(x, sd, p + "attention.self.key"))
        v = heads(lin(x, sd, p + "attention.self.value"))
        s = q @ k.transpose(-1, -2) / math.sqrt(dh) + ext
        a = torch.softmax(s, -1)
        ctx = (a @ v).permute(0, 2, 1, 3).reshape(B, T, H)
        x = ln(lin(ctx, sd, p + "attention.output.dense") + x, sd, p + "attention.output.LayerNorm")
        h = gelu(lin(x, sd, p + "intermediate.dense"))
        x = ln(lin(h, sd, p + "output.dense") + x, sd, p + "output.LayerNorm")
    pooled = torch.tanh(lin(x[:, 0], sd, "bert.pooler.dense"))
    return x, pooled


def rounded(t):
    return [round(float(v), 7) for v in t.flatten().tolist()] if t.dim() == 1 else [rounded(r) for r in t]


def write_safetensors(path, tensors):
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name, t in tensors.items():
        data = t.detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


class Evil:
    def __init__(self, fn, arg):
        self.fn, self.arg = fn, arg

    def __reduce__(self):
        return (self.fn, (self.arg,))


def write_raw_pickle_zip(path, pickle_bytes):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle_bytes)
        z.writestr("archive/version", "3\n")


def main():
    torch.manual_seed(1234)
    os.makedirs(os.path.join(OUT, "legacy"), exist_ok=True)
    os.makedirs(os.path.join(OUT, "hostile"), exist_ok=True)
    module = build_module()
    state = module.state_dict()
    assert state["cls.predictions.decoder.weight"].data_ptr() == state["bert.embeddings.word_embeddings.weight"].data_ptr()
    torch.save(state, os.path.join(OUT, "pytorch_model.bin"))
    with open(os.path.join(OUT, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2, sort_keys=True)
        f.write("\n")

    tied = {"cls.predictions.decoder.weight", "cls.predictions.decoder.bias"}
    write_safetensors(os.path.join(OUT, "model.safetensors"),
                      collections.OrderedDict((k, v) for k, v in state.items() if k not in tied))

    legacy = collections.OrderedDict()
    for i, (k, v) in enumerate(state.items()):
        if k in tied:
            continue
        name = k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
        if name.startswith("bert.embeddings."):
            name = name[len("bert."):]
        legacy[name] = v.clone().to(torch.float16 if i % 2 == 0 else torch.bfloat16)
    # The pre-1.6 (non-zip) torch format, as old hub checkpoints have.
    torch.save(legacy, os.path.join(OUT, "legacy", "pytorch_model.bin"), _use_new_zipfile_serialization=False)
    legacy_cfg = dict(CONFIG)
    legacy_cfg.pop("architectures")
    with open(os.path.join(OUT, "legacy", "config.json"), "w") as f:
        json.dump(legacy_cfg, f, indent=2, sort_keys=True)
        f.write("\n")

    # Reference outputs, float64, from the state dict.
    sd = {k: v.double() for k, v in state.items()}
    T = 10
    ids = torch.tensor([
        [2, 15, 27, 38, 3, 44, 51, 66, 3, 0],
        [2, 71, 8, 3, 92, 13, 3, 0, 0, 0],
        [2, 5, 6, 7, 8, 9, 3, 10, 11, 3],
    ])
    tt = torch.tensor([
        [0, 0, 0, 0, 0, 1, 1, 1, 1, 0],
        [0, 0, 0, 0, 1, 1, 1, 0, 0, 0],
        [0, 0, 0, 0, 0, 0, 0, 1, 1, 1],
    ])
    mask = (torch.arange(T)[None] < torch.tensor([9, 7, 10])[:, None]).long()
    hidden, pooled = encoder(sd, ids, tt, mask)
    qa = lin(hidden, sd, "qa_outputs")
    tr = ln(gelu(lin(hidden, sd, "cls.predictions.transform.dense")), sd, "cls.predictions.transform.LayerNorm")
    mlm = tr @ sd["bert.embeddings.word_embeddings.weight"].T + sd["cls.predictions.bias"]
    # Multiple choice: [B=2][C=2][T] built from the rows above; flattened like BertForMultipleChoice.
    mc_ids = ids[[0, 1, 2, 1]].view(2, 2, T)
    mc_tt = tt[[0, 1, 2, 1]].view(2, 2, T)
    mc_mask = mask[[0, 1, 2, 1]].view(2, 2, T)
    _, mc_pooled = encoder(sd, mc_ids.view(-1, T), mc_tt.view(-1, T), mc_mask.view(-1, T))
    mc_logits = lin(mc_pooled, sd, "classifier").view(2, 2)

    ref = {
        "inputs": {"input_ids": ids.tolist(), "token_type_ids": tt.tolist(), "attention_mask": mask.tolist()},
        "mc_inputs": {"input_ids": mc_ids.tolist(), "token_type_ids": mc_tt.tolist(),
                      "attention_mask": mc_mask.tolist()},
        "last_hidden_state": rounded(hidden),
        "pooler_output": rounded(pooled),
        "qa_start_logits": rounded(qa[..., 0]),
        "qa_end_logits": rounded(qa[..., 1]),
        "mlm_logits": rounded(mlm),
        "mc_logits": rounded(mc_logits),
    }
    with open(os.path.join(OUT, "reference.json"), "w") as f:
        json.dump(ref, f, separators=(",", ":"))
        f.write("\n")
    with open(os.path.join(OUT, "inputs.json"), "w") as f:
        json.dump(ref["inputs"], f)
        f.write("\n")

    # Hostile files: real torch.save archives whose pickle calls a function when unpickled.
    torch.save({"w": Evil(os.system, "echo pwned > /tmp/parity_pwned")},
               os.path.join(OUT, "hostile", "os_system.bin"))
    import builtins
    torch.save(collections.OrderedDict(w=Evil(builtins.eval, "1+1")),
               os.path.join(OUT, "hostile", "builtins_eval.bin"))
    # PROTO 2, EMPTY_DICT, then opcode 'i' (INST), which the loader does not support.
    write_raw_pickle_zip(os.path.join(OUT, "hostile", "unknown_opcode.bin"),
                         b"\x80\x02}q\x00iposix\nsystem\n.")


if __name__ == "__main__":
    main()
