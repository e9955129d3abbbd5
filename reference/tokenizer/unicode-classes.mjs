// The character classes of Hugging Face tokenizers' regex engine (Oniguruma, inside the npm package
// "tokenizers"), for every code point: which of \p{Lu} \p{Ll} \p{Lt} \p{Lm} \p{Lo} \p{M} \p{N} \s
// matches it. Writes "HEX CLASS" lines (code points in none are left out), to be compared with the
// engine's generated table (native/src/tokenizer/unicode_tables.c).
//
//   node reference/tokenizer/unicode-classes.mjs NODE_MODULES OUT_TXT
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const [modules, out] = process.argv.slice(2);
if (!out) {
  console.error("usage: node unicode-classes.mjs NODE_MODULES OUT_TXT");
  process.exit(2);
}
const { Tokenizer } = createRequire(join(resolve(modules), "x.js"))("tokenizers");
const splitter = (pattern) => Tokenizer.fromString(JSON.stringify({
  version: "1.0", truncation: null, padding: null, added_tokens: [], normalizer: null,
  pre_tokenizer: { type: "Split", pattern: { Regex: pattern }, behavior: "Isolated", invert: false },
  post_processor: null, decoder: null,
  model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
    fuse_unk: false, byte_fallback: false, vocab: {}, merges: [] },
})).getPreTokenizer();

// every code point (surrogates cannot be in a string) followed by U+0001, which is in no class:
// a piece that is one code point is a match of the one-character pattern
const parts = [];
for (let c = 0; c <= 0x10ffff; c++) if (c < 0xd800 || c > 0xdfff) parts.push(String.fromCodePoint(c) + "\u0001");
const text = parts.join("");
const classes = { LU: "\\p{Lu}", LL: "\\p{Ll}", LT: "\\p{Lt}", LM: "\\p{Lm}", LO: "\\p{Lo}", MARK: "\\p{M}", NUMBER: "\\p{N}", SPACE: "\\s" };
const found = new Map();
for (const [name, pattern] of Object.entries(classes)) {
  for (const [piece] of splitter(pattern).preTokenizeString(text)) {
    if (piece === "\u0001" || [...piece].length !== 1) continue;
    const c = piece.codePointAt(0);
    if (found.has(c)) throw new Error(`U+${c.toString(16)} is in ${found.get(c)} and ${name}`);
    found.set(c, name);
  }
}
const lines = [...found.entries()].sort((a, b) => a[0] - b[0]).map(([c, n]) => c.toString(16).toUpperCase() + " " + n);
writeFileSync(out, lines.join("\n") + "\n");
console.error(`wrote ${out}: ${lines.length} classified code points`);
