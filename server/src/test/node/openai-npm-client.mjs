// Drives an OpenAI-compatible server with the official `openai` npm package, for the server's client parity
// test: a chat completion, the same chat streamed, a text completion and an embedding (the package asks for
// base64 and decodes it, as it does by default). Writes what the client returned as JSON.
//
//   node openai-npm-client.mjs NODE_MODULES BASE_URL OUT_JSON
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [modules, baseURL, out] = process.argv.slice(2);
if (!out) {
  console.error("usage: node openai-npm-client.mjs NODE_MODULES BASE_URL OUT_JSON");
  process.exit(2);
}
const entry = createRequire(join(resolve(modules), "x.js")).resolve("openai");
const { default: OpenAI } = await import(pathToFileURL(entry).href);
const client = new OpenAI({ baseURL, apiKey: "sk-npm", maxRetries: 0, timeout: 120_000 });

const messages = [
  { role: "system", content: "Be brief." },
  { role: "user", content: "Which licence?" },
];
const chat = await client.chat.completions.create({ model: "demo-chat", messages, max_tokens: 12, temperature: 0 });

const stream = await client.chat.completions.create({
  model: "demo-chat", messages, max_tokens: 12, temperature: 0, stream: true, stream_options: { include_usage: true },
});
let streamed = "", streamedFinish = null, streamedUsage = null, chunks = 0;
for await (const chunk of stream) {
  chunks++;
  for (const choice of chunk.choices) {
    if (choice.delta?.content) streamed += choice.delta.content;
    if (choice.finish_reason) streamedFinish = choice.finish_reason;
  }
  if (chunk.usage) streamedUsage = chunk.usage;
}

const completion = await client.completions.create({
  model: "demo-chat", prompt: "Permission is hereby granted", max_tokens: 10, temperature: 0,
});
const embedding = await client.embeddings.create({ model: "demo-chat", input: "MIT License" });
const models = await client.models.list();

writeFileSync(out, JSON.stringify({
  chat: {
    content: chat.choices[0].message.content,
    finish_reason: chat.choices[0].finish_reason,
    usage: chat.usage,
    object: chat.object,
  },
  stream: { content: streamed, finish_reason: streamedFinish, usage: streamedUsage, chunks },
  completion: { text: completion.choices[0].text, finish_reason: completion.choices[0].finish_reason, usage: completion.usage },
  embedding: { values: Array.from(embedding.data[0].embedding), usage: embedding.usage },
  models: models.data.map((m) => m.id),
}));
