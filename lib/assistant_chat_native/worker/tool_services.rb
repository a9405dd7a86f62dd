# frozen_string_literal: true

module AssistantChatNative
  class Worker
    # A registry of tool services: a key the app enqueues (e.g. "content",
    # "app_db") to the tools it gives a turn. The block receives the job's
    # user_context and the conversation and returns tools (anything with name,
    # description, input_schema and call(arguments); AssistantChatNative::Tool
    # builds one).
    #
    #   AssistantChatNative::Worker.settings.tool_services.register("app_db") do |user_context, conversation|
    #     [AppDbQueryTool.new(party_id: user_context["party_id"])]
    #   end
    class ToolServices
      def initialize
        @services = {}
        @mutex = Mutex.new
      end

      def register(key, &builder)
        raise ArgumentError, "register #{key.inspect} with a block that returns its tools" unless builder

        @mutex.synchronize { @services[key.to_s] = builder }
        self
      end

      def unregister(key)
        @mutex.synchronize { @services.delete(key.to_s) }
        self
      end

      def keys
        @mutex.synchronize { @services.keys }
      end

      def registered?(key)
        @mutex.synchronize { @services.key?(key.to_s) }
      end

      # The tools for the given keys, in order, without duplicate names. An
      # unknown key is a ConfigurationError naming the known ones.
      def tools_for(keys, user_context: {}, conversation: nil)
        tools = Array(keys).flat_map do |key|
          builder = @mutex.synchronize { @services[key.to_s] }
          unless builder
            raise ConfigurationError, "unknown tool service #{key.to_s.inspect}; registered: " \
              "#{keys_list}. Register it with AssistantChatNative::Worker.settings.tool_services.register"
          end
          Array(builder.call(user_context, conversation))
        end
        tools.uniq { |tool| tool.name.to_s }
      end

      private

      def keys_list
        list = keys
        list.empty? ? "none" : list.map(&:inspect).join(", ")
      end
    end
  end
end
