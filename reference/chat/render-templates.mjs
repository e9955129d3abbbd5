// Renders chat templates with @huggingface/jinja (the Jinja implementation transformers.js uses)
// for the chat template parity test. CASES_JSON: {"cases": [{"template", "messages",
// "add_generation_prompt", "bos_token", "eos_token", "variables"}]}; writes {"results": [{"output"}
// or {"error"}]} in the same order.
//
//   node reference/chat/render-templates.mjs NODE_MODULES CASES_JSON OUT_JSON
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [modules, casesJson, out] = process.argv.slice(2);
if (!out) {
  console.error("usage: node render-templates.mjs NODE_MODULES CASES_JSON OUT_JSON");
  process.exit(2);
}
const entry = createRequire(join(resolve(modules), "x.js")).resolve("@huggingface/jinja");
const { Template } = await import(pathToFileURL(entry).href);
const results = [];
for (const c of JSON.parse(readFileSync(casesJson, "utf8")).cases) {
  try {
    const output = new Template(c.template).render({
      ...(c.variables ?? {}),
      messages: c.messages,
      add_generation_prompt: c.add_generation_prompt,
      bos_token: c.bos_token ?? "",
      eos_token: c.eos_token ?? "",
    });
    results.push({ output });
  } catch (e) {
    results.push({ error: String(e.message ?? e) });
  }
}
writeFileSync(out, JSON.stringify({ results }));
console.error(`wrote ${out}: ${results.length} renderings`);
