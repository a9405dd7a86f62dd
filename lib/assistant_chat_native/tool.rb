# frozen_string_literal: true

module AssistantChatNative
  # A tool the model may call, built from a block:
  #
  #   weather = AssistantChatNative::Tool.new(
  #     name: "get_weather",
  #     description: "Current weather for a city",
  #     input_schema: {type: "object", properties: {city: {type: "string"}}, required: ["city"]},
  #     idempotent: true
  #   ) { |arguments| Weather.for(arguments["city"]).to_h }
  #
  #   refund = AssistantChatNative::Tool.new(name: "refund_order", description: "Refunds an order",
  #     input_schema: {...}) { |arguments, tool_call_id:| Refunds.create!(order_id: arguments["order_id"], key: tool_call_id) }
  #
  # Turn accepts any object with name, description, input_schema and call(arguments); this
  # class is only a convenience. The block receives the model's arguments as a Hash with
  # String keys (and, when it takes a `tool_call_id:` keyword, the model's id for this call,
  # stable across a job's crash and resume: a key for the tool's own deduplication) and
  # returns a String or anything JSON can encode. An exception it raises becomes an error
  # result the model reads; the turn goes on.
  #
  # idempotent: whether running the same call twice does no harm. A turn resumed after its
  # job died runs again a call that was under way only when its tool is idempotent; for any
  # other tool the model is told the call's result is unknown (Turn::UNKNOWN_RESULT).
  class Tool
    attr_reader :name, :description, :input_schema

    def initialize(name:, description:, input_schema: {type: "object", properties: {}}, idempotent: false, &block)
      raise ArgumentError, "Tool #{name.inspect} needs a block to call" unless block

      @name = name.to_s
      @description = description.to_s
      @input_schema = input_schema
      @idempotent = idempotent ? true : false
      @block = block
      @takes_id = block.parameters.any? { |type, parameter| parameter == :tool_call_id && %i[key keyreq].include?(type) }
      freeze
    end

    def idempotent?
      @idempotent
    end

    def call(arguments, tool_call_id: nil)
      @takes_id ? @block.call(arguments, tool_call_id: tool_call_id) : @block.call(arguments)
    end

    def inspect
      "#<#{self.class.name} #{name}#{" idempotent" if idempotent?}>"
    end
  end
end
