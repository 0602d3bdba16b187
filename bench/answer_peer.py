"""Hugging Face's question-answering pipeline on a model folder: the peer of bench/answer.ts.

Reads a JSON job on stdin ({"model", "question", "context", "batch": [{question, context}...],
"reps", "batch_reps", "warmup", "threads", "max_seq_len", "doc_stride", "max_answer_len"}) and
prints one JSON line: latency of one question (p50/p95 ms), questions/s over the batch, and the
answer to the single question (to compare with ours).

transformers >= 5 no longer has pipeline("question-answering"); there the pipeline's own steps
are run: the fast tokenizer with truncation="only_second", stride=doc_stride,
return_overflowing_tokens and offsets (QuestionAnsweringPipeline.preprocess), one forward of
AutoModelForQuestionAnswering over all windows, and transformers' select_starts_ends (the
function the 4.x pipeline's postprocess calls, still shipped in the document QA pipeline) per
window, the best span over all windows by score. With an older transformers the real pipeline
runs.
"""
import json
import statistics
import sys
import time

import numpy as np
import torch
import transformers
from transformers import AutoModelForQuestionAnswering, AutoTokenizer


def percentile(xs, q):
    s = sorted(xs)
    k = (len(s) - 1) * q
    lo, hi = int(np.floor(k)), int(np.ceil(k))
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def make_steps(model_dir, max_seq_len, doc_stride, max_answer_len):
    from transformers.pipelines.document_question_answering import select_starts_ends

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForQuestionAnswering.from_pretrained(model_dir)
    model.eval()

    def run(items):
        enc = tok(
            [q for q, _ in items],
            [c for _, c in items],
            truncation="only_second",
            max_length=max_seq_len,
            stride=doc_stride,
            return_overflowing_tokens=True,
            return_offsets_mapping=True,
            padding="longest",
            return_tensors="pt",
        )
        owner = enc["overflow_to_sample_mapping"].tolist()
        with torch.inference_mode():
            out = model(
                input_ids=enc["input_ids"],
                attention_mask=enc["attention_mask"],
                token_type_ids=enc["token_type_ids"],
            )
        starts = out.start_logits.numpy()
        ends = out.end_logits.numpy()
        best = [None] * len(items)
        for i in range(len(owner)):
            seq = enc.sequence_ids(i)
            p_mask = np.array([[s != 1 for s in seq]], dtype=np.int64)
            p_mask[0, 0] = 0  # [CLS] stays, as the pipeline does
            att = enc["attention_mask"][i : i + 1].numpy()
            s, e, sc, _ = select_starts_ends(
                starts[i : i + 1], ends[i : i + 1], p_mask, att, top_k=1,
                max_answer_len=max_answer_len,
            )
            if len(sc) == 0:
                continue
            offs = enc["offset_mapping"][i].tolist()
            cand = (float(sc[0]), offs[int(s[0])][0], offs[int(e[0])][1])
            k = owner[i]
            if best[k] is None or cand[0] > best[k][0]:
                best[k] = cand
        return [
            {"score": b[0], "start": b[1], "end": b[2], "answer": items[k][1][b[1] : b[2]]}
            for k, b in enumerate(best)
        ]

    return run, "pipeline steps (transformers %s has no question-answering pipeline)" % (
        transformers.__version__
    )


def make_pipeline(model_dir, max_seq_len, doc_stride, max_answer_len):
    from transformers import pipeline

    qa = pipeline("question-answering", model=model_dir, tokenizer=model_dir, device=-1)

    def run(items):
        out = qa(
            question=[q for q, _ in items],
            context=[c for _, c in items],
            max_seq_len=max_seq_len,
            doc_stride=doc_stride,
            max_answer_len=max_answer_len,
            align_to_words=False,
            batch_size=len(items),
        )
        return out if isinstance(out, list) else [out]

    return run, "pipeline(\"question-answering\"), transformers %s" % transformers.__version__


def main():
    job = json.load(sys.stdin)
    torch.set_num_threads(job["threads"])
    args = (job["model"], job["max_seq_len"], job["doc_stride"], job["max_answer_len"])
    try:
        run, impl = make_pipeline(*args)
    except (KeyError, ImportError, ValueError):
        run, impl = make_steps(*args)
    one = [(job["question"], job["context"])]
    for _ in range(job["warmup"]):
        run(one)
    lat = []
    for _ in range(job["reps"]):
        t0 = time.perf_counter()
        answer = run(one)[0]
        lat.append((time.perf_counter() - t0) * 1000)
    batch = [(b["question"], b["context"]) for b in job["batch"]]
    run(batch)
    bt = []
    for _ in range(job["batch_reps"]):
        t0 = time.perf_counter()
        run(batch)
        bt.append(time.perf_counter() - t0)
    print(json.dumps({
        "ok": True,
        "impl": impl,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "latency_ms": {"p50": percentile(lat, 0.5), "p95": percentile(lat, 0.95), "runs": len(lat)},
        "batch_questions_per_s": len(batch) / statistics.median(bt),
        "answer": {k: answer[k] for k in ("answer", "score", "start", "end")},
    }))


if __name__ == "__main__":
    main()
