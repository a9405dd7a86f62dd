// OpenAI's TypeScript SDK, Chat Completions: chat.completions.stream() and the
// final ChatCompletion its ChatCompletionStream accumulates from the chunks. Chat
// Completions streams no reasoning, so the reading's thinking stays empty.
import OpenAI from "openai";
import { reading } from "./reading.mjs";

export async function read({ baseUrl, model, apiKey }) {
  const client = new OpenAI({ apiKey, baseURL: baseUrl, maxRetries: 0, timeout: 10_000 });
  const stream = client.chat.completions.stream({
    model,
    messages: [{ role: "user", content: "Hello" }],
    stream_options: { include_usage: true },
  });
  const completion = await stream.finalChatCompletion();
  const [choice] = completion.choices;
  return reading({
    text: choice.message.content ?? "",
    toolCalls: (choice.message.tool_calls ?? []).map((call) => ({
      id: call.id,
      name: call.function.name,
      arguments: JSON.parse(call.function.arguments),
    })),
    usage: {
      input_tokens: completion.usage?.prompt_tokens,
      output_tokens: completion.usage?.completion_tokens,
      cache_read_tokens: completion.usage?.prompt_tokens_details?.cached_tokens,
    },
    stopReason: choice.finish_reason,
  });
}
