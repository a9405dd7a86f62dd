// The reading every SDK's reader returns, in the names of the gem's Result, so that
// the spec compares like with like.

// The usage counts the SDK reported; a count the stream did not carry is left out,
// as the gem leaves it out of Result#usage.
export function usage(counts) {
  return Object.fromEntries(Object.entries(counts).filter(([, count]) => count !== undefined && count !== null));
}

// thinkingBlocks: the blocks a dialect requires sent back with the next request
// (Anthropic's thinking blocks with their signatures), as Result#thinking_blocks holds them.
export function reading({
  text = "",
  thinking = "",
  thinkingBlocks = [],
  toolCalls = [],
  usage: counts = {},
  stopReason = null,
}) {
  return {
    text,
    thinking,
    thinking_blocks: thinkingBlocks,
    tool_calls: toolCalls,
    usage: usage(counts),
    stop_reason: stopReason,
  };
}
