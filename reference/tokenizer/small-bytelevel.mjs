// Trains a small byte-level BPE vocabulary of the Llama 3 or Llama 4 kind with Hugging Face
// tokenizers (npm package "tokenizers") for the tiny MobileLLM-R1 / MobileLLM-Pro shaped test
// checkpoints: the model's split pattern and ByteLevel pre-tokenizer, a BPE model trained on the
// given text files and then cut to its first N_MERGES merges (a BPE vocabulary cut after its first
// merges is again a complete BPE vocabulary: the 256 byte characters plus one token per kept merge,
// ids in merge order), followed by the model family's special tokens. Writes tokenizer.json.
//
//   node reference/tokenizer/small-bytelevel.mjs NODE_MODULES llama3|llama4 N_MERGES OUT_JSON TEXT_FILE...
import { createRequire } from "node:module";
import { readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const [modules, kind, nMergesArg, out, ...files] = process.argv.slice(2);
if (!modules || !["llama3", "llama4"].includes(kind) || !(Number(nMergesArg) > 0) || !out || files.length === 0) {
  console.error("usage: node small-bytelevel.mjs NODE_MODULES llama3|llama4 N_MERGES OUT_JSON TEXT_FILE...");
  process.exit(2);
}
const { Tokenizer } = createRequire(join(resolve(modules), "x.js"))("tokenizers");

// the split patterns of tokenizer.json of Meta's Llama 3 and Llama 4 releases
const LLAMA3_PATTERN = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const LLAMA4_PATTERN = "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+"
  + "(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*"
  + "(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const SPECIAL = {
  llama3: ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>", "<|eot_id|>"],
  llama4: ["<|begin_of_text|>", "<|end_of_text|>", "<|header_start|>", "<|header_end|>", "<|eom|>", "<|eot|>"],
};
const byteLevel = { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: false };
const skeleton = {
  version: "1.0", truncation: null, padding: null, added_tokens: [], normalizer: null,
  pre_tokenizer: { type: "Sequence", pretokenizers: [
    { type: "Split", pattern: { Regex: kind === "llama3" ? LLAMA3_PATTERN : LLAMA4_PATTERN }, behavior: "Isolated", invert: false },
    byteLevel] },
  post_processor: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
  decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
  model: { type: "BPE", dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
    fuse_unk: false, byte_fallback: false, ignore_merges: kind === "llama3", vocab: {}, merges: [] },
};

const trained = Tokenizer.fromString(JSON.stringify(skeleton));
trained.train(files.map((f) => resolve(f)));
const tmp = join(mkdtempSync(join(tmpdir(), "small-bytelevel-")), "trained.json");
trained.save(tmp, false);
const json = JSON.parse(readFileSync(tmp, "utf8"));

// GPT-2's byte alphabet: printable bytes stand for themselves, the others for U+0100...
const self = (b) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
const vocab = {};
let next = 0;
let shifted = 0;
for (let b = 0; b < 256; b++) vocab[String.fromCodePoint(self(b) ? b : 0x100 + shifted++)] = next++;
const trainedMerges = json.model.merges.length;
const merges = [];
for (const m of json.model.merges) {
  if (merges.length === Number(nMergesArg)) break;
  const [a, b] = Array.isArray(m) ? m : m.split(" ");
  if (!(a in vocab) || !(b in vocab)) throw new Error(`merge ${a} ${b} uses a token no earlier merge made`);
  if (!((a + b) in vocab)) vocab[a + b] = next++;
  merges.push([a, b]);
}
json.model.vocab = vocab;
json.model.merges = merges;
json.added_tokens = SPECIAL[kind].map((content) => ({ id: next++, content, single_word: false, lstrip: false,
  rstrip: false, normalized: false, special: true }));
const bos = json.added_tokens[0];
json.post_processor = { type: "TemplateProcessing",
  single: [{ SpecialToken: { id: bos.content, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
  pair: [{ SpecialToken: { id: bos.content, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } },
    { SpecialToken: { id: bos.content, type_id: 1 } }, { Sequence: { id: "B", type_id: 1 } }],
  special_tokens: { [bos.content]: { id: bos.content, ids: [bos.id], tokens: [bos.content] } } };
writeFileSync(out, JSON.stringify(json));
console.error(`wrote ${out}: ${next} tokens (the first ${merges.length} of ${trainedMerges} merges)`);
