// Google's Gen AI SDK: models.generateContentStream() and its responses' own
// getters (text, functionCalls, usageMetadata), gathered as an app gathers them.
import { GoogleGenAI } from "@google/genai";
import { reading } from "./reading.mjs";

export async function read({ baseUrl, model, apiKey }) {
  const client = new GoogleGenAI({
    apiKey,
    httpOptions: { baseUrl, timeout: 10_000, retryOptions: { attempts: 1 } },
  });
  const stream = await client.models.generateContentStream({ model, contents: "Hello" });
  let text = "";
  let thinking = "";
  const calls = [];
  let usage = {};
  let stopReason = null;
  for await (const response of stream) {
    text += response.text ?? "";
    for (const part of response.candidates?.[0]?.content?.parts ?? []) {
      if (part.thought === true && typeof part.text === "string") thinking += part.text;
    }
    calls.push(...(response.functionCalls ?? []));
    usage = response.usageMetadata ?? usage;
    stopReason = response.candidates?.[0]?.finishReason ?? stopReason;
  }
  return reading({
    text,
    thinking,
    // Gemini sends a call's id only when asked for one; without it the gem names
    // the calls call_0, call_1, ... in the order they came.
    toolCalls: calls.map((call, index) => ({ id: call.id ?? `call_${index}`, name: call.name, arguments: call.args })),
    usage: {
      input_tokens: usage.promptTokenCount,
      // Thinking tokens are output tokens, billed with the candidates' (the gem adds them).
      output_tokens: usage.candidatesTokenCount === undefined && usage.thoughtsTokenCount === undefined
        ? undefined
        : (usage.candidatesTokenCount ?? 0) + (usage.thoughtsTokenCount ?? 0),
      cache_read_tokens: usage.cachedContentTokenCount,
    },
    stopReason,
  });
}
