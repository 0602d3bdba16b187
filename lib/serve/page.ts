/**
 * The page `serve` shows at `GET /`: paste a paragraph (or several, separated by a blank line),
 * type a question, and see the answer highlighted in its paragraph with its score and the best
 * alternatives. Self-contained HTML, CSS and JavaScript (nothing fetched but `POST /answer`).
 * @module
 */

/** Alternatives the page asks for. */
export const PAGE_TOP_K = 5;

/** The page's HTML; `hasMcModel` only changes the hint about several paragraphs. */
export function pageHtml({ hasMcModel }: { hasMcModel: boolean }): string {
  const several = hasMcModel
    ? "the multiple-choice model picks the paragraph"
    : "every paragraph is searched and the best span wins";
  return `<!doctype html>
<html lang="zh-Hant">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>bert-qa-zh: ask</title>
<style>
  body { font-family: system-ui, "Noto Sans CJK TC", sans-serif; max-width: 56rem; margin: 2rem auto;
    padding: 0 1rem; color: #222; }
  h1 { font-size: 1.3rem; }
  label { display: block; font-weight: 600; margin: 0.8rem 0 0.3rem; }
  textarea, input[type=text] { width: 100%; box-sizing: border-box; font: inherit; padding: 0.4rem; }
  textarea { min-height: 10rem; }
  button { margin-top: 0.8rem; font: inherit; padding: 0.4rem 1.2rem; }
  .hint { color: #666; font-size: 0.9rem; }
  .paragraph { white-space: pre-wrap; line-height: 1.7; border: 1px solid #ddd; padding: 0.6rem;
    margin: 0.5rem 0; }
  .paragraph.other { color: #888; }
  mark { background: #ffe066; padding: 0 0.1rem; }
  #error { color: #b00020; white-space: pre-wrap; }
  table { border-collapse: collapse; margin-top: 0.5rem; }
  td, th { border-bottom: 1px solid #eee; padding: 0.2rem 0.6rem; text-align: left; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
<h1>Ask the model</h1>
<form id="form">
  <label for="context">Paragraph</label>
  <textarea id="context" required placeholder="Paste a paragraph here"></textarea>
  <div class="hint">Several paragraphs: separate them with a blank line; ${several}.</div>
  <label for="question">Question</label>
  <input type="text" id="question" required placeholder="Type a question about the paragraph">
  <button id="ask" type="submit">Ask</button>
</form>
<p id="status" class="hint"></p>
<div id="error" role="alert"></div>
<div id="result" hidden>
  <p><strong>Answer:</strong> <span id="answer-text"></span>
    (score <span id="score"></span>, characters <span id="span"></span>)</p>
  <div id="paragraphs"></div>
  <table id="alternatives"><thead><tr><th>#</th><th>answer</th><th>score</th><th>paragraph</th>
    <th>characters</th></tr></thead><tbody></tbody></table>
</div>
<script>
"use strict";
const TOP_K = ${PAGE_TOP_K};
const $ = (id) => document.getElementById(id);
function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}
function splitParagraphs(text) {
  return text.split(/\\n\\s*\\n/).map((p) => p.trim()).filter((p) => p !== "");
}
function render(paragraphs, r) {
  $("answer-text").textContent = r.answer;
  $("score").textContent = r.score.toFixed(4);
  $("span").textContent = r.start + "–" + r.end;
  const box = $("paragraphs");
  box.replaceChildren();
  paragraphs.forEach((p, i) => {
    const div = el("div", undefined, "paragraph" + (i === r.paragraph ? " chosen" : " other"));
    if (paragraphs.length > 1) {
      const prob = r.paragraph_scores ? " (MC probability " + r.paragraph_scores[i].toFixed(3) + ")" : "";
      div.append(el("div", "paragraph " + i + prob, "hint"));
    }
    if (i === r.paragraph) {
      // start and end count code points, as Hugging Face does: slice the code points.
      const cps = Array.from(p);
      const mark = el("mark", cps.slice(r.start, r.end).join(""));
      mark.id = "answer";
      div.append(cps.slice(0, r.start).join(""), mark, cps.slice(r.end).join(""));
    } else div.append(p);
    box.append(div);
  });
  const body = $("alternatives").tBodies[0];
  body.replaceChildren();
  (r.top_k || [r]).forEach((a, i) => {
    const tr = el("tr");
    tr.append(el("td", String(i + 1), "num"), el("td", a.answer), el("td", a.score.toFixed(4), "num"),
      el("td", String(a.paragraph), "num"), el("td", a.start + "–" + a.end, "num"));
    body.append(tr);
  });
  $("result").hidden = false;
}
$("form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const paragraphs = splitParagraphs($("context").value);
  const question = $("question").value;
  $("error").textContent = "";
  $("status").textContent = "asking…";
  $("ask").disabled = true;
  const t0 = performance.now();
  try {
    const body = paragraphs.length > 1
      ? { question, paragraphs, top_k: TOP_K }
      : { question, context: paragraphs[0] ?? "", top_k: TOP_K };
    const res = await fetch("/answer", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await res.json();
    if (!res.ok) throw new Error(data.error || ("HTTP " + res.status));
    render(paragraphs, data);
    $("status").textContent = "answered in " + Math.round(performance.now() - t0) + " ms";
  } catch (e) {
    $("result").hidden = true;
    $("status").textContent = "";
    $("error").textContent = String(e.message || e);
  } finally {
    $("ask").disabled = false;
  }
});
</script>
</body>
</html>
`;
}
