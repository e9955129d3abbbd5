// Reference token ids from Hugging Face tokenizers (npm package "tokenizers", the Rust library via
// napi) for the byte-level BPE parity tests: every case of CORPUS_JSON plus COUNT random strings
// mixing the character classes the pre-tokenizers tell apart (seeded, so every run makes the same).
// A case is {"text"} or {"hex"} (raw bytes, possibly ill-formed UTF-8); HF works on strings, so raw
// bytes enter it through a lossy UTF-8 decoder (TextDecoder: one U+FFFD per maximal ill-formed
// subpart, as Rust's String::from_utf8_lossy). Writes, per case, the bytes (hex), the ids of
// encode(text, add_special_tokens = false) (special-token text becomes special tokens, as HF always
// does) and decode(ids, skip_special_tokens = true).
//
//   node reference/tokenizer/hf-tokenize.mjs NODE_MODULES TOKENIZER_JSON CORPUS_JSON COUNT OUT_JSON
import { createRequire } from "node:module";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const [modules, tokJson, corpusJson, count, out] = process.argv.slice(2);
if (!out) {
  console.error("usage: node hf-tokenize.mjs NODE_MODULES TOKENIZER_JSON CORPUS_JSON COUNT OUT_JSON");
  process.exit(2);
}
const { Tokenizer } = createRequire(join(resolve(modules), "x.js"))("tokenizers");
const tok = Tokenizer.fromString(readFileSync(tokJson, "utf8"));

let seed = 0x9e3779b9;
function random() { // mulberry32
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(random() * a.length)];
const range = (lo, hi) => String.fromCodePoint(lo + Math.floor(random() * (hi - lo + 1)));
const pools = [
  () => range(0x61, 0x7a), () => range(0x41, 0x5a), () => range(0x30, 0x39), () => " ", () => "  ",
  () => pick(["\t", "\n", "\r", "\r\n", "\u000b", "\u000c", "\u0085", "\u00a0", "\u2028", "\u3000", "\u2003"]),
  () => pick([".", ",", "!", "?", "-", "/", "(", ")", "\"", "#", "@", "_", "*", "\\", "|", "<", ">"]),
  () => "'" + pick(["s", "S", "t", "T", "re", "RE", "rE", "ve", "Ve", "m", "M", "ll", "LL", "lL", "d", "D", "\u017f", "x", ""]),
  () => range(0x300, 0x36f), () => range(0x4e00, 0x9fff), () => range(0xac00, 0xd7a3), () => range(0x600, 0x6ff),
  () => range(0x5d0, 0x5ea), () => range(0x900, 0x97f), () => range(0x1f600, 0x1f64f), () => "\u200d", () => "\ufe0f",
  () => pick(["\u01c5", "\u01c8", "\u1f88", "\u02b0", "\u3005", "\u00aa", "\u00b2", "\u00bd", "\u0661", "\u2160", "\u00e9", "\u00df"]),
  () => range(0xc0, 0x24f), () => range(0x391, 0x3c9), () => range(0x410, 0x44f),
  () => pick(["<|begin_of_text|>", "<|eot_id|>", "<|eot|>", "<|header_start|>", "my token", "<|", "|>"]),
];
const cases = JSON.parse(readFileSync(corpusJson, "utf8")).cases.slice();
for (let i = 0; i < Number(count); i++) {
  let s = "";
  const n = 1 + Math.floor(random() * 24);
  for (let k = 0; k < n; k++) s += pick(pools)();
  cases.push({ text: s });
}
const decoder = new TextDecoder("utf-8");
const results = [];
for (const c of cases) {
  const bytes = c.hex !== undefined ? Buffer.from(c.hex, "hex") : Buffer.from(c.text, "utf8");
  const text = decoder.decode(bytes);
  const enc = await tok.encode(text, null, { addSpecialTokens: false });
  const ids = enc.getIds();
  results.push({ hex: bytes.toString("hex"), ids, decoded: await tok.decode(ids, true) });
}
writeFileSync(out, JSON.stringify({ tokenizer: tokJson, cases: results }));
console.error(`wrote ${out}: ${results.length} cases`);
