# frozen_string_literal: true

module AssistantChatNative
  # A tool the model may call, built from a block:
  #
  #   weather = AssistantChatNative::Tool.new(
  #     name: "get_weather",
  #     description: "Current weather for a city",
  #     input_schema: {type: "object", properties: {city: {type: "string"}}, required: ["city"]}
  #   ) { |arguments| Weather.for(arguments["city"]).to_h }
  #
  # Turn accepts any object with name, description, input_schema and call(arguments); this
  # class is only a convenience. The block receives the model's arguments as a Hash with
  # String keys and returns a String or anything JSON can encode. An exception it raises
  # becomes an error result the model reads; the turn goes on.
  class Tool
    attr_reader :name, :description, :input_schema

    def initialize(name:, description:, input_schema: {type: "object", properties: {}}, &block)
      raise ArgumentError, "Tool #{name.inspect} needs a block to call" unless block

      @name = name.to_s
      @description = description.to_s
      @input_schema = input_schema
      @block = block
      freeze
    end

    def call(arguments)
      @block.call(arguments)
    end

    def inspect
      "#<#{self.class.name} #{name}>"
    end
  end
end
