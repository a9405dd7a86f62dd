# frozen_string_literal: true

require "json"
require "assistant_chat_native"
require_relative "weather"

# The model this example talks to when no provider key is set: LocalProvider, the
# gem's Anthropic-speaking server on loopback, answering by the last user message.
# The system tests and `bin/demo --web` both use it, so what the tests see is what
# the demo shows.
#
#   provider = LocalModel.start
#   ENV["ANTHROPIC_BASE_URL"] = provider.base_url_for(:anthropic)  # for the Sidekiq process
#
# The last user message chooses the reply:
#   "weather"         the weather tool, then a sentence built from its result
#   "tool", "how many" the conversation_stats tool (reads the database), then its numbers
#   "error", "fail"   HTTP 401: the page shows the authentication failure's copy
#   "long"            a long, slow reply (to stop, or to reload in the middle of)
#   anything else     a reply of about 60 words, paced to grow over about 3 seconds
module LocalModel
  # Words per second of the paced replies.
  TOKEN_RATE = 20
  LONG_TOKEN_RATE = 12
  # Slower after a tool, so its status line stays on the page long enough to read.
  TOOL_ANSWER_RATE = 8

  PLAIN_REPLY = "Here is a reply streamed by the local model, a word at a time, the way a real provider " \
    "streams one. Each piece travels from the Sidekiq process through Redis and Action Cable into this " \
    "page, where it is appended to what is already shown. When the turn completes, the streamed text " \
    "is replaced by the saved message, rendered by the same partial a page load uses."

  LONG_REPLY = ("This is a long answer that takes its time. " * 14).strip

  module_function

  # Starts LocalProvider with this responder; returns it (call #stop when done).
  def start(**options)
    AssistantChatNative::LocalProvider.start(log: nil, **options).respond_with { |request| reply_to(request) }
  end

  # The script for one request (see LocalProvider's header for the options).
  def reply_to(request)
    messages = Array(request.json&.fetch("messages", nil))
    last = messages.last || {}
    result = tool_result(last)
    return answer_from_tool(result) if result

    text = user_text(last).downcase
    if text.match?(/\b(error|fail)/)
      {status: 401}
    elsif text.include?("weather")
      {text: "Let me check the weather.", tool_calls: [{name: "weather", arguments: {city: city_in(text)}}],
       token_rate: TOKEN_RATE}
    elsif text.match?(/\btool\b|how many/)
      {text: "Let me count.", tool_calls: [{name: "conversation_stats", arguments: {}}], token_rate: TOKEN_RATE}
    elsif text.include?("long")
      {text: LONG_REPLY, token_rate: LONG_TOKEN_RATE}
    else
      {text: PLAIN_REPLY, token_rate: TOKEN_RATE}
    end
  end

  # The second round of a tool call: a sentence from the tool's result.
  def answer_from_tool(result)
    data = begin
      JSON.parse(result)
    rescue JSON::ParserError
      {}
    end
    text = if data.key?("conversations")
      "You have #{count(data["conversations"], "conversation")} with #{count(data["messages"], "message")} in them."
    elsif data.key?("forecast")
      "In #{data["city"]} it is #{data["forecast"]} and #{data["celsius"]} °C."
    else
      "The tool said: #{result}"
    end
    {text: text, token_rate: TOOL_ANSWER_RATE}
  end

  def count(number, noun)
    "#{number} #{noun}#{"s" unless number == 1}"
  end

  def tool_result(message)
    return nil unless message["role"] == "user" && message["content"].is_a?(Array)

    block = message["content"].find { |part| part["type"] == "tool_result" }
    block && Array(block["content"]).map { |part| part.is_a?(Hash) ? part["text"] : part }.join
  end

  def user_text(message)
    content = message["content"]
    return content.to_s unless content.is_a?(Array)

    content.filter_map { |part| part["text"] if part["type"] == "text" }.join(" ")
  end

  def city_in(text)
    Weather.city_in(text)
  end
end
