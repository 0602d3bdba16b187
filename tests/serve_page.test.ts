// The serve page in a real browser: headless Chromium (playwright-core, the system's Chromium)
// pastes a paragraph, types a question, and reads the highlighted answer back; an empty paragraph
// shows the server's error. A screenshot is written to $SERVE_PAGE_SCREENSHOT when set.
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs";
import { chromium } from "playwright-core";
import { Answerer } from "../lib/pipeline/mod.ts";
import { startServer } from "../lib/serve/mod.ts";
import { makeModelDirs, sampleQuestions } from "./answer_util.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = await Deno.stat(CHROMIUM).then(() => true).catch(() => false);

Deno.test({
  name: "serve page: headless Chromium asks a question and reads the highlighted answer",
  ignore: !hasChromium,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await tf.setBackend("cpu");
    const dirs = await makeModelDirs();
    const { contexts, valid } = await sampleQuestions(2);
    const answerer = await Answerer.load({ qaModel: dirs.qa, mcModel: dirs.mc, log: () => {} });
    const server = startServer(answerer, { port: 0, log: () => {}, info: { mc_model: dirs.mc } });
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox"],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}/`);
      const ex = valid[0];
      const paragraph = contexts[ex.relevant!];
      await page.fill("#context", paragraph);
      await page.fill("#question", ex.question);
      await page.click("#ask");
      await page.waitForSelector("mark#answer", { timeout: 30_000 });
      const marked = await page.textContent("mark#answer");
      const direct = await answerer.answer({
        question: ex.question,
        context: paragraph,
        top_k: 5,
      });
      assert.equal(marked, direct.answer);
      // The highlight sits where start/end (code points) say, inside the shown paragraph.
      const shown = await page.textContent(".paragraph.chosen");
      const cps = [...paragraph];
      assert.equal(
        shown,
        cps.slice(0, direct.start).join("") + direct.answer + cps.slice(direct.end).join(""),
      );
      assert.equal(await page.textContent("#score"), direct.score.toFixed(4));
      assert.equal(await page.locator("#alternatives tbody tr").count(), direct.top_k!.length);
      const shot = Deno.env.get("SERVE_PAGE_SCREENSHOT");
      if (shot) await page.screenshot({ path: shot, fullPage: true });

      // Two paragraphs: the MC model picks one, its probabilities are shown.
      const other = contexts[ex.paragraphs.find((p) => p !== ex.relevant)!];
      await page.fill("#context", `${paragraph}\n\n${other}`);
      await page.click("#ask");
      await page.waitForFunction(`document.querySelectorAll(".paragraph").length === 2`);
      assert.match((await page.textContent("#paragraphs"))!, /MC probability/);
      assert.equal(await page.locator("mark#answer").count(), 1);

      // An error from the server is shown, not a stale answer.
      await page.fill("#context", "   ");
      await page.evaluate(`document.getElementById("context").removeAttribute("required")`);
      await page.click("#ask");
      await page.waitForFunction(`document.getElementById("error").textContent !== ""`);
      assert.match((await page.textContent("#error"))!, /context|paragraph/);
      assert.equal(await page.isHidden("#result"), true);
    } finally {
      await browser.close();
      await server.shutdown();
      answerer.dispose();
      await dirs.dispose();
    }
  },
});
