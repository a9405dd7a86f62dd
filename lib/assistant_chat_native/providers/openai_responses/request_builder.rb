# frozen_string_literal: true

require "json"

module AssistantChatNative
  module Providers
    class OpenAIResponses < Provider
      # The Responses body (POST /v1/responses, stream: true, store: false): the system prompt as
      # `instructions`; the history as input items: messages (input_text, input_image and
      # input_file parts for the user, text for the assistant), `function_call` items (call_id,
      # name, JSON-string arguments) and one `function_call_output` item per tool result; tools
      # as {type: "function", name, description, parameters, strict: false} (Responses makes a
      # function strict unless told, which would refuse the usual optional parameters).
      #
      # Nothing is stored at OpenAI, so a reasoning model's reasoning items must travel with the
      # conversation: reasoning models are asked for include: ["reasoning.encrypted_content"]
      # and summaries (reasoning: {summary: "auto"}, with the effort when set), and each reasoning
      # item a round returned (a thinking part with its id) goes back in the next round's input
      # where it came, before that round's function_call items, as the API requires for a tool
      # loop. A thinking part without an id (an Anthropic block, after an escalation) is dropped,
      # and so are all of them for a model that does not reason.
      class RequestBuilder
        # OpenAI's reasoning models: the o-series and GPT-5 on.
        REASONING_MODELS = /\A(?:o\d|gpt-(?:[5-9]|\d\d))/

        def initialize(entry)
          @entry = entry
        end

        def build(system:, messages:, tools: [])
          body = {model: @entry.model_id, stream: true, store: false}
          body[:instructions] = system.to_s unless system.nil? || system.to_s.empty?
          body[:input] = Request::History.normalize(messages).flat_map { |role, parts| items(role, parts) }
          body[:tools] = tools.map { |tool| function(tool) } if tools.any?
          body[:max_output_tokens] = @entry.max_tokens if @entry.max_tokens
          add_reasoning(body)
          body
        end

        private

        def reasoning?
          @entry.effort || REASONING_MODELS.match?(@entry.model_id)
        end

        def add_reasoning(body)
          return unless reasoning?

          body[:reasoning] = {summary: "auto"}
          body[:reasoning][:effort] = @entry.effort if @entry.effort
          body[:include] = ["reasoning.encrypted_content"]
        end

        def function(tool)
          tool = Request::History.tool_hash(tool)
          {type: "function", name: tool[:name], description: tool[:description], parameters: tool[:input_schema], strict: false}
        end

        def items(role, parts)
          (role == "assistant") ? assistant(parts) : user(parts)
        end

        # The round's items in the order they came: reasoning, the message, the calls.
        def assistant(parts)
          items = parts.filter_map { |part| reasoning_item(part) if part[:type] == "thinking" }
          text = parts.select { |part| part[:type] == "text" }.map { |part| part[:text].to_s }.join
          items << {role: "assistant", content: text} unless text.empty?
          parts.select { |part| part[:type] == "tool_call" }.each do |part|
            items << {type: "function_call", call_id: part[:id].to_s, name: part[:name].to_s,
                      arguments: JSON.generate(Request::History.arguments(part[:arguments]))}
          end
          items
        end

        # A model that does not reason has no use for another's reasoning items.
        def reasoning_item(part)
          return nil if part[:id].to_s.empty? || !reasoning?

          summary = part[:thinking].to_s.empty? ? [] : [{type: "summary_text", text: part[:thinking].to_s}]
          item = {type: "reasoning", id: part[:id].to_s, summary: summary}
          item[:encrypted_content] = part[:signature].to_s unless part[:signature].to_s.empty?
          item
        end

        def user(parts)
          items = parts.select { |part| part[:type] == "tool_result" }.map do |part|
            output = Request::History.flagged_result_text(part)
            {type: "function_call_output", call_id: part[:tool_call_id].to_s, output: output}
          end
          content = parts.filter_map { |part| content_part(part) }
          return items if content.empty?

          plain = content.all? { |part| part[:type] == "input_text" }
          items << {role: "user", content: plain ? content.map { |part| part[:text] }.join("\n\n") : content}
        end

        def content_part(part)
          case part[:type]
          when "text"
            part[:text].to_s.empty? ? nil : {type: "input_text", text: part[:text].to_s}
          when "image"
            {type: "input_image", image_url: "data:#{Request::History.media_type(part)};base64,#{Request::History.base64(part)}"}
          when "document"
            name = part[:name] || (part[:path] && File.basename(part[:path].to_s)) || "document.pdf"
            {type: "input_file", filename: name, file_data: "data:#{Request::History.media_type(part)};base64,#{Request::History.base64(part)}"}
          end
        end
      end
    end
  end
end
