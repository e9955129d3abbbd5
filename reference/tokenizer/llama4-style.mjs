// Trains a small Llama-4-style byte-level BPE tokenizer with Hugging Face tokenizers (npm package
// "tokenizers"): Llama 4's split pattern and ByteLevel pre-tokenizer, a BPE model trained on the
// given text files, the full 256-character byte-level alphabet, Llama-4-style special tokens and one
// non-special added token. Writes tokenizer.json and tokenizer_config.json into OUT_DIR.
//
//   node reference/tokenizer/llama4-style.mjs NODE_MODULES OUT_DIR TEXT_FILE...
import { createRequire } from "node:module";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

const [modules, outDir, ...files] = process.argv.slice(2);
if (!modules || !outDir || files.length === 0) {
  console.error("usage: node llama4-style.mjs NODE_MODULES OUT_DIR TEXT_FILE...");
  process.exit(2);
}
const { Tokenizer } = createRequire(join(resolve(modules), "x.js"))("tokenizers");

const LLAMA4_PATTERN = "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
  + "(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*"
  + "(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false };
const skeleton = {
  version: "1.0", truncation: null, padding: null, added_tokens: [], normalizer: null,
  pre_tokenizer: { type: "Sequence", pretokenizers: [
    { type: "Split", pattern: { Regex: LLAMA4_PATTERN }, behavior: "Isolated", invert: false }, byteLevel] },
  post_processor: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
  decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
    fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab: {}, merges: [] },
};

mkdirSync(outDir, { recursive: true });
const trained = Tokenizer.fromString(JSON.stringify(skeleton));
trained.train(files.map((f) => resolve(f)));
const tmp = join(outDir, "trained.json");
trained.save(tmp, false);
const json = JSON.parse(readFileSync(tmp, "utf8"));

// every byte's stand-in character, as GPT-2's bytes_to_unicode defines the alphabet
const vocab = json.model.vocab;
let next = Object.keys(vocab).length;
const self = (b) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
let shifted = 0;
for (let b = 0; b < 256; b++) {
  const c = String.fromCodePoint(self(b) ? b : 0x100 + shifted++);
  if (!(c in vocab)) vocab[c] = next++;
}

const special = ["<|begin_of_text|>", "<|end_of_text|>", "<|header_start|>", "<|header_end|>", "<|eot|>", "<|eom|>",
  "<|python_start|>", "<|python_end|>", "<|finetune_right_pad|>"];
json.added_tokens = special.map((content) => ({ id: next++, content, single_word: false, lstrip: false, rstrip: false,
  normalized: false, special: true }));
json.added_tokens.push({ id: next++, content: "my token", single_word: false, lstrip: false, rstrip: false,
  normalized: false, special: false });
json.post_processor = { type: "TemplateProcessing",
  single: [{ SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
  pair: [{ SpecialToken: { id: "<|begin_of_text|>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } },
    { SpecialToken: { id: "<|begin_of_text|>", type_id: 1 } }, { Sequence: { id: "B", type_id: 1 } }],
  special_tokens: { "<|begin_of_text|>": { id: "<|begin_of_text|>", ids: [json.added_tokens[0].id],
    tokens: ["<|begin_of_text|>"] } } };
writeFileSync(join(outDir, "tokenizer.json"), JSON.stringify(json));
writeFileSync(join(outDir, "tokenizer_config.json"), JSON.stringify({
  bos_token: "<|begin_of_text|>", eos_token: "<|eot|>", pad_token: "<|finetune_right_pad|>",
  tokenizer_class: "PreTrainedTokenizerFast" }));
console.error(`wrote ${outDir}/tokenizer.json: ${next} tokens, ${json.model.merges.length} merges`);
