// Prints the metadata and tensor infos of a GGUF file as JSON, as parsed by @huggingface/gguf
// (an independent GGUF reader). BigInts become strings; typed metadata keeps the GGUF type ids.
import { gguf } from "@huggingface/gguf";

const file = process.argv[2];
const { metadata, tensorInfos, typedMetadata } = await gguf(file, { allowLocalFile: true, typedMetadata: true });
const plain = (v) => (typeof v === "bigint" ? v.toString() : v);
const md = {};
for (const [key, entry] of Object.entries(typedMetadata)) {
  md[key] = {
    type: entry.type,
    subType: entry.subType ?? null,
    value: Array.isArray(entry.value) ? entry.value.map(plain) : plain(entry.value),
  };
}
const tensors = tensorInfos.map((t) => ({
  name: t.name,
  n_dims: t.n_dims,
  shape: t.shape.map(plain),
  dtype: t.dtype,
  offset: plain(t.offset),
}));
process.stdout.write(JSON.stringify({ metadata: md, tensors }));
