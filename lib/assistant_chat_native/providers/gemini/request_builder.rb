# frozen_string_literal: true

module AssistantChatNative
  module Providers
    class Gemini < Provider
      # The generateContent body (POST /v1beta/models/{model}:streamGenerateContent?alt=sse):
      # roles "user" and "model", the system prompt in systemInstruction, functionCall parts
      # in model turns and functionResponse parts ({output:} or {error:}, named after the
      # call they answer) in the user turn that follows, attachments as inlineData. Thinking
      # goes in generationConfig.thinkingConfig: thinkingLevel (the effort) for Gemini 3.x,
      # thinkingBudget for 2.5; never both, which Google answers with a 400.
      class RequestBuilder
        def initialize(entry)
          @entry = entry
        end

        def build(system:, messages:, tools: [])
          history = Request::History.normalize(messages)
          names = call_names(history)
          body = {}
          body[:systemInstruction] = {parts: [{text: system.to_s}]} unless system.nil? || system.to_s.empty?
          body[:contents] = history.filter_map { |role, parts| content(role, parts, names) }
          if tools.any?
            body[:tools] = [{functionDeclarations: tools.map { |tool| declaration(tool) }}]
          end
          config = {}
          config[:maxOutputTokens] = @entry.max_tokens if @entry.max_tokens
          config[:thinkingConfig] = thinking_config if @entry.thinking?
          body[:generationConfig] = config if config.any?
          body
        end

        private

        def thinking_config
          config = {includeThoughts: true}
          if @entry.thinking_style == :level
            config[:thinkingLevel] = @entry.effort if @entry.effort
          elsif @entry.thinking.is_a?(Integer)
            config[:thinkingBudget] = @entry.thinking
          end
          config
        end

        # functionResponse needs the function's name; tool results only carry the call id.
        def call_names(history)
          history.each_with_object({}) do |(_role, parts), names|
            parts.each { |part| names[part[:id].to_s] = part[:name].to_s if part[:type] == "tool_call" }
          end
        end

        def declaration(tool)
          tool = Request::History.tool_hash(tool)
          {name: tool[:name], description: tool[:description], parametersJsonSchema: tool[:input_schema]}
        end

        def content(role, parts, names)
          list = parts.filter_map { |part| part(part, names) }
          return nil if list.empty?

          {role: (role == "assistant") ? "model" : "user", parts: list}
        end

        def part(part, names)
          case part[:type]
          when "text"
            part[:text].to_s.empty? ? nil : {text: part[:text].to_s}
          when "image", "document"
            {inlineData: {mimeType: Request::History.media_type(part), data: Request::History.base64(part)}}
          when "tool_call"
            call = {functionCall: {name: part[:name].to_s, args: Request::History.arguments(part[:arguments])}}
            # Gemini's thought signature, when the call carried one, goes back beside it.
            call[:thoughtSignature] = part[:signature].to_s if part[:signature]
            call
          when "tool_result"
            name = part[:name] || names.fetch(part[:tool_call_id].to_s, "")
            key = part[:is_error] ? :error : :output
            {functionResponse: {name: name.to_s, response: {key => response_value(part[:content])}}}
          end
        end

        def response_value(content)
          return content if content.is_a?(Hash) || content.is_a?(Array)

          Request::History.result_text(content)
        end
      end
    end
  end
end
