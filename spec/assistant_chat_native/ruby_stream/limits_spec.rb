# frozen_string_literal: true

require "spec_helper"
require "assistant_chat_native/ruby_stream"

# RubyStream shares data with the C core, never logic: each bound in Limits is
# the number the C header it names defines. Read from the headers, so the two
# cannot drift apart even where the extension is not built.
RSpec.describe AssistantChatNative::RubyStream::Limits do
  core = File.expand_path("../../../ext/assistant_chat_native/core", __dir__)
  {
    MAX_INDEX: ["decode.h", "ACN_DECODER_MAX_BLOCKS"],
    MAX_TOOL_CALLS: ["accum.h", "ACN_ACCUM_MAX_TOOL_CALLS"],
    ENTRY_COST: ["accum.h", "ACN_ACCUM_ENTRY_COST"],
    MAX_JSON_DEPTH: ["acn.h", "ACN_JSON_MAX_DEPTH"],
    MAX_NUMBER_CHARS: ["accum.h", "ACN_ACCUM_MAX_NUMBER_CHARS"],
    MAX_FIELD_BYTES: ["sse.h", "ACN_SSE_MAX_FIELD_BYTES"]
  }.each do |name, (header, macro)|
    it "gives #{name} the value of core/#{header} #{macro}" do
      defined = File.read(File.join(core, header))[/^#define #{macro}\s+(\d+)/, 1]

      expect([name, defined&.to_i]).to eq([name, described_class.const_get(name)])
    end
  end

  it "gives the default byte budgets of the C Decoder", if: AssistantChatNative.native? do
    expect([AssistantChatNative::RubyStream::DEFAULT_MAX_EVENT_BYTES, AssistantChatNative::RubyStream::DEFAULT_MAX_REPLY_BYTES])
      .to eq([AssistantChatNative::Decoder::DEFAULT_MAX_EVENT_BYTES, AssistantChatNative::Decoder::DEFAULT_MAX_REPLY_BYTES])
  end
end
