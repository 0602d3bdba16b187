// Progress bar modes, log files (JSON lines + CSV) and atomic writes.
import assert from "node:assert/strict";
import Papa from "papaparse";
import { ProgressBar } from "../lib/training/progress.ts";
import { JsonlCsvLog, type LogRecord, readJsonl, recordsToCsv } from "../lib/training/logging.ts";
import { writeDirAtomic, writeFileAtomic } from "../lib/util/atomic.ts";

function fakeClock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

Deno.test("progress: lines mode prints periodic lines with step, epoch, loss, lr, rate and ETA", async () => {
  const clock = fakeClock();
  const out: string[] = [];
  const bar = new ProgressBar({
    total: 100,
    numEpochs: 2,
    mode: "lines",
    intervalMs: 10_000,
    label: "train-mc",
    now: clock.now,
    write: (t) => out.push(t),
  });
  for (let s = 1; s <= 100; s++) {
    clock.advance(500); // 2 it/s
    bar.update({ step: s, epoch: s > 50 ? 1 : 0, loss: 1 / s, lr: 3e-5, examples: s * 8 });
  }
  await bar.close();
  // One line when the interval has passed (every 20 steps = 10 s) plus the last step + close.
  assert.ok(out.length >= 5 && out.length <= 8, `lines: ${out.length}`);
  assert.ok(out.every((l) => l.endsWith("\n") && !l.includes("\r")));
  const first = out[0];
  assert.match(first, /^train-mc 1\/100 /);
  const mid = out.find((l) => l.startsWith("train-mc 21/100"))!;
  assert.match(mid, /epoch 1\/2/);
  assert.match(mid, /loss 0\.0476/);
  assert.match(mid, /lr 3\.00e-5/);
  assert.match(mid, /2\.00 it\/s/);
  assert.match(mid, /16\.0 ex\/s/);
  assert.match(mid, /ETA 0:40/); // 79 steps at 2 it/s
  assert.match(out.at(-1)!, /100\/100 .*100%.*epoch 2\/2.*elapsed 0:50/);
});

Deno.test("progress: tty mode redraws one line with carriage returns", async () => {
  const clock = fakeClock();
  let text = "";
  const bar = new ProgressBar({
    total: 10,
    mode: "tty",
    now: clock.now,
    write: (t) => (text += t),
  });
  for (let s = 1; s <= 10; s++) {
    clock.advance(300);
    bar.update({ step: s, epoch: 0, loss: 0.5 });
    if (s === 5) bar.log("epoch 1 eval: accuracy=0.5");
  }
  await bar.close();
  assert.equal(text.split("\n").length, 3); // the log line, the final bar, then end
  assert.ok(text.includes("\r"));
  assert.match(text, /\repoch 1 eval: accuracy=0\.5\n/);
});

Deno.test("progress: jupyter mode is one display updated in place", async () => {
  const clock = fakeClock();
  const msgs: { type: string; content: Record<string, unknown> }[] = [];
  const bar = new ProgressBar({
    total: 1000,
    mode: "jupyter",
    now: clock.now,
    broadcast: (type, content) => {
      msgs.push({ type, content });
      return Promise.resolve();
    },
  });
  for (let s = 1; s <= 1000; s++) {
    clock.advance(10);
    bar.update({ step: s, epoch: 0, loss: 0.1 });
  }
  await bar.close();
  assert.equal(msgs[0].type, "display_data");
  assert.ok(msgs.slice(1).every((m) => m.type === "update_display_data"));
  const ids = new Set(msgs.map((m) => (m.content.transient as { display_id: string }).display_id));
  assert.equal(ids.size, 1);
  // Throttled: 10 s of updates at 200 ms -> ~50 messages, not 1000.
  assert.ok(msgs.length <= 60, `messages: ${msgs.length}`);
  const last = msgs.at(-1)!.content.data as Record<string, string>;
  assert.match(last["text/plain"], /1000\/1000/);
  assert.match(last["text/html"], /^<pre/);
});

Deno.test("logs: CSV via papaparse quotes fields and round-trips", () => {
  const recs: LogRecord[] = [
    { step: 1, loss: 0.5, note: 'a "quoted", comma' },
    { step: 2, loss: 0.25, extra: true },
  ];
  const csv = recordsToCsv(recs);
  const parsed = Papa.parse<Record<string, string>>(csv.trim(), { header: true });
  assert.deepEqual(parsed.meta.fields, ["step", "loss", "note", "extra"]);
  assert.equal(parsed.data[0].note, 'a "quoted", comma');
  assert.equal(parsed.data[1].extra, "true");
  assert.equal(parsed.data[1].note, "");
});

Deno.test("logs: JSON lines append and truncate on reopen (resume)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const log = new JsonlCsvLog(`${dir}/train_log`);
    await log.open();
    for (let i = 1; i <= 5; i++) await log.append({ step: i, loss: 1 / i });
    await log.flush();
    assert.equal((await readJsonl(`${dir}/train_log.jsonl`)).length, 5);
    const again = new JsonlCsvLog(`${dir}/train_log`);
    await again.open(3);
    assert.deepEqual(again.records.map((r) => r.step), [1, 2, 3]);
    assert.equal((await readJsonl(`${dir}/train_log.jsonl`)).length, 3);
    assert.equal((await Deno.readTextFile(`${dir}/train_log.csv`)).trim().split("\n").length, 4);
    await assert.rejects(new JsonlCsvLog(`${dir}/train_log`).open(9), /has 3 records/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("atomic writes: files and directories are replaced whole or not at all", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeFileAtomic(`${dir}/sub/a.txt`, "one");
    await writeFileAtomic(`${dir}/sub/a.txt`, "two");
    assert.equal(await Deno.readTextFile(`${dir}/sub/a.txt`), "two");

    const ck = `${dir}/ckpt`;
    await writeDirAtomic(ck, async (t) => {
      await Deno.writeTextFile(`${t}/x`, "1");
    });
    // A failing writer leaves the previous directory intact and no temporary behind.
    await assert.rejects(
      writeDirAtomic(ck, async (t) => {
        await Deno.writeTextFile(`${t}/x`, "half");
        throw new Error("disk full");
      }),
      /disk full/,
    );
    assert.equal(await Deno.readTextFile(`${ck}/x`), "1");
    await writeDirAtomic(ck, async (t) => {
      await Deno.writeTextFile(`${t}/y`, "2");
    });
    assert.deepEqual([...Deno.readDirSync(ck)].map((e) => e.name), ["y"]);
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(left, ["ckpt", "sub"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("progress: a tty line fits the terminal's columns (120, 80, 40), metrics in percent", async () => {
  for (const columns of [120, 80, 40]) {
    const clock = fakeClock();
    let text = "";
    const bar = new ProgressBar({
      total: 1000,
      numEpochs: 6,
      mode: "tty",
      label: "train-qa",
      columns,
      now: clock.now,
      write: (t) => (text += t),
    });
    for (let s = 1; s <= 20; s++) {
      clock.advance(300);
      bar.update({
        step: s,
        epoch: 0,
        loss: 1.23456,
        lr: 3e-5,
        examples: s * 8,
        extra: { running_exact_match: 51.04, running_f1: 66.5 },
      });
    }
    await bar.close();
    const lines = text.split(/[\r\n]/).filter((l) => l.trim());
    assert.ok(lines.length > 0);
    for (const l of lines) assert.ok(l.trimEnd().length < columns, `${columns}: ${l}`);
    // The always-kept fields survive; a wide terminal keeps the metrics, in percent.
    if (columns >= 80) assert.match(lines.at(-1)!, /epoch 1\/6 \| loss 1\.235 /);
    if (columns === 120) assert.match(text, /running_exact_match 51\.04/);
  }
  // Without a column limit (lines mode) nothing is dropped.
  const bar = new ProgressBar({ total: 10, mode: "none" });
  const full = bar.render({ step: 1, epoch: 0, loss: 1, lr: 1e-3, extra: { accuracy: 82.333 } });
  assert.match(full, /lr 1\.00e-3 \| accuracy 82\.33/);
});
