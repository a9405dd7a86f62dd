# frozen_string_literal: true

require "base64"
require "json"

module AssistantChatNative
  module Request
    # Reads the normalized history the same way for every provider: string or symbol keys,
    # String content as one text part, attachments read from disk and base64-encoded.
    module History
      ROLES = %w[user assistant].freeze
      PART_TYPES = %w[text image document tool_call tool_result thinking redacted_thinking].freeze

      module_function

      # => [[role, [part, ...]], ...] with parts as symbol-keyed Hashes.
      def normalize(messages)
        Array(messages).map.with_index do |message, index|
          message = symbolize(message)
          role = message[:role].to_s
          unless ROLES.include?(role)
            raise ArgumentError, "message #{index}: role must be \"user\" or \"assistant\", got #{message[:role].inspect}"
          end
          [role, parts(message[:content], index)]
        end
      end

      def parts(content, index)
        case content
        when nil then []
        when String then content.empty? ? [] : [{type: "text", text: content}]
        when Array
          content.map do |part|
            part = symbolize(part)
            part[:type] = part[:type].to_s
            unless PART_TYPES.include?(part[:type])
              raise ArgumentError, "message #{index}: unknown part type #{part[:type].inspect}; use one of #{PART_TYPES.join(", ")}"
            end
            part
          end
        else
          raise ArgumentError, "message #{index}: content must be a String or an Array of parts"
        end
      end

      # Base64 of an image or document part: its data: as given, else the file at path.
      def base64(part)
        return part[:data].to_s if part[:data]

        path = part[:path].to_s
        Base64.strict_encode64(File.binread(path))
      rescue Errno::ENOENT, Errno::EACCES, Errno::EISDIR => e
        raise Error, "cannot attach #{File.basename(path)}: #{e.message.sub(/ @ .*/, "")}; " \
          "the file must exist until the turn has been sent"
      end

      def media_type(part)
        part[:media_type] || part[:mime_type] || ((part[:type] == "document") ? "application/pdf" : "image/png")
      end

      # A tool result's content as the text the model reads.
      def result_text(content)
        case content
        when String then content
        when nil then ""
        else JSON.generate(content)
        end
      end

      # A tool result's text for an API with no error flag on results (OpenAI's): a failed
      # tool's text says so at its start.
      def flagged_result_text(part)
        text = result_text(part[:content])
        (part[:is_error] && !text.start_with?("Error")) ? "Error: #{text}" : text
      end

      def arguments(value)
        case value
        when Hash then value
        when String then value.empty? ? {} : JSON.parse(value)
        when nil then {}
        else value.to_h
        end
      end

      def tool_hash(tool)
        {name: tool.name.to_s, description: tool.description.to_s, input_schema: tool.input_schema}
      end

      def symbolize(hash)
        hash.to_h.transform_keys(&:to_sym)
      end
    end
  end
end
