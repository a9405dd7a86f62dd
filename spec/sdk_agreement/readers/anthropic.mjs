// Anthropic's TypeScript SDK: messages.stream() and the final Message its
// MessageStream accumulates from the events.
import Anthropic from "@anthropic-ai/sdk";
import { reading } from "./reading.mjs";

export async function read({ baseUrl, model, apiKey }) {
  const client = new Anthropic({ apiKey, baseURL: baseUrl, maxRetries: 0, timeout: 10_000 });
  const stream = client.messages.stream({
    model,
    max_tokens: 1024,
    messages: [{ role: "user", content: "Hello" }],
  });
  const message = await stream.finalMessage();
  const blocks = (type) => message.content.filter((block) => block.type === type);
  return reading({
    text: blocks("text").map((block) => block.text).join(""),
    thinking: blocks("thinking").map((block) => block.thinking).join(""),
    thinkingBlocks: message.content
      .filter((block) => block.type === "thinking" || block.type === "redacted_thinking")
      .map(({ type, thinking, signature, data }) =>
        type === "thinking" ? { type, thinking, signature } : { type, data }),
    toolCalls: blocks("tool_use").map((block) => ({ id: block.id, name: block.name, arguments: block.input })),
    usage: {
      input_tokens: message.usage.input_tokens,
      output_tokens: message.usage.output_tokens,
      cache_read_tokens: message.usage.cache_read_input_tokens,
      cache_write_tokens: message.usage.cache_creation_input_tokens,
    },
    stopReason: message.stop_reason,
  });
}
