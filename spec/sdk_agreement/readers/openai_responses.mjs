// OpenAI's TypeScript SDK, Responses: responses.stream() and the final Response its
// ResponseStream accumulates from the events. Nothing is stored at OpenAI, so the request
// asks for the reasoning items' encrypted content, as the gem's does for a reasoning model.
// A reasoning item reads as the gem keeps it to send back: a thinking block with the
// summary parts joined by a blank line, the encrypted content as its signature, and its id.
import OpenAI from "openai";
import { reading } from "./reading.mjs";

export async function read({ baseUrl, model, apiKey }) {
  const client = new OpenAI({ apiKey, baseURL: baseUrl, maxRetries: 0, timeout: 10_000 });
  const stream = client.responses.stream({
    model,
    input: "Hello",
    store: false,
    reasoning: { effort: "low", summary: "auto" },
    include: ["reasoning.encrypted_content"],
  });
  const response = await stream.finalResponse();
  const items = (type) => response.output.filter((item) => item.type === type);
  const summary = (item) => item.summary.map((part) => part.text).join("\n\n");
  return reading({
    text: items("message")
      .flatMap((message) => message.content)
      .filter((part) => part.type === "output_text")
      .map((part) => part.text)
      .join(""),
    thinking: items("reasoning").map(summary).join(""),
    thinkingBlocks: items("reasoning").map((item) => ({
      type: "thinking",
      thinking: summary(item),
      signature: item.encrypted_content,
      id: item.id,
    })),
    toolCalls: items("function_call").map((call) => ({
      id: call.call_id,
      name: call.name,
      arguments: JSON.parse(call.arguments),
    })),
    usage: {
      input_tokens: response.usage?.input_tokens,
      output_tokens: response.usage?.output_tokens,
      cache_read_tokens: response.usage?.input_tokens_details?.cached_tokens,
    },
    // The gem's provider_stop_reason: the status, or for an incomplete response its reason.
    stopReason: response.incomplete_details?.reason ?? response.status,
  });
}
