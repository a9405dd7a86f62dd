# frozen_string_literal: true

require "json"

module AssistantChatNative
  module Providers
    class OpenAI < Provider
      # The Chat Completions body (POST /v1/chat/completions, stream: true, with
      # stream_options.include_usage so the last chunk carries usage): the system prompt as
      # the first message, assistant tool_calls with JSON-string arguments, one role "tool"
      # message per tool result right after the assistant message that asked for it. An effort
      # goes out as reasoning_effort, except beside tools for the GPT-6 family, whose Chat
      # Completions answer "Function tools with reasoning_effort are not supported" (400): there
      # the model reasons at its default depth. (Reported for gpt-6-astra, gpt-6.1-sol/-terra,
      # gpt-6-luna and GPT-5.4 on: github.com/goruck/home-generative-agent v3.46.0-beta.1, and
      # docs.laozhang.ai's 2026-11 note quoting the same error; tools with an effort need the
      # Responses API there.)
      class RequestBuilder
        EFFORT_REFUSED_WITH_TOOLS = /\Agpt-(?:6|5\.[4-9])/
        def initialize(entry)
          @entry = entry
        end

        def build(system:, messages:, tools: [])
          body = {model: @entry.model_id, stream: true, stream_options: {include_usage: true}}
          list = []
          list << {role: "system", content: system.to_s} unless system.nil? || system.to_s.empty?
          Request::History.normalize(messages).each { |role, parts| list.concat(messages_for(role, parts)) }
          body[:messages] = list
          body[:tools] = tools.map { |tool| function(tool) } if tools.any?
          body[:max_completion_tokens] = @entry.max_tokens if @entry.max_tokens
          body[:reasoning_effort] = @entry.effort if effort_allowed?(tools)
          body
        end

        private

        def effort_allowed?(tools)
          @entry.effort && !(tools.any? && EFFORT_REFUSED_WITH_TOOLS.match?(@entry.model_id))
        end

        def function(tool)
          tool = Request::History.tool_hash(tool)
          {type: "function", function: {name: tool[:name], description: tool[:description], parameters: tool[:input_schema]}}
        end

        def messages_for(role, parts)
          (role == "assistant") ? [assistant(parts)].compact : user(parts)
        end

        def assistant(parts)
          text = parts.select { |part| part[:type] == "text" }.map { |part| part[:text].to_s }.join
          calls = parts.select { |part| part[:type] == "tool_call" }.map do |part|
            {id: part[:id].to_s, type: "function",
             function: {name: part[:name].to_s, arguments: JSON.generate(Request::History.arguments(part[:arguments]))}}
          end
          return nil if text.empty? && calls.empty?

          message = {role: "assistant", content: text.empty? ? nil : text}
          message[:tool_calls] = calls if calls.any?
          message
        end

        def user(parts)
          results = parts.select { |part| part[:type] == "tool_result" }.map do |part|
            content = Request::History.flagged_result_text(part)
            {role: "tool", tool_call_id: part[:tool_call_id].to_s, content: content}
          end
          content = parts.filter_map { |part| content_part(part) }
          return results if content.empty?

          plain = content.all? { |part| part[:type] == "text" }
          results + [{role: "user", content: plain ? content.map { |part| part[:text] }.join("\n\n") : content}]
        end

        def content_part(part)
          case part[:type]
          when "text"
            part[:text].to_s.empty? ? nil : {type: "text", text: part[:text].to_s}
          when "image"
            {type: "image_url", image_url: {url: "data:#{Request::History.media_type(part)};base64,#{Request::History.base64(part)}"}}
          when "document"
            name = part[:name] || (part[:path] && File.basename(part[:path].to_s)) || "document.pdf"
            {type: "file", file: {filename: name, file_data: "data:#{Request::History.media_type(part)};base64,#{Request::History.base64(part)}"}}
          end
        end
      end
    end
  end
end
