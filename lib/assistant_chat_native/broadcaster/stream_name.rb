# frozen_string_literal: true

module AssistantChatNative
  class Broadcaster
    # Where broadcasts go and which DOM ids they target, named the way turbo-rails
    # names them, so `<%= turbo_stream_from @conversation %>` receives the turn and a
    # page on Action Cable alone subscribes to the same name.
    #
    #   StreamName.for(conversation)          "Z2lkOi8vYXBwL0NvbnZlcnNhdGlvbi80Mg" (its GlobalID param;
    #                                         "42", its to_param, in an app without GlobalID)
    #   StreamName.for([conversation, :chat]) "Z2lk…:chat"
    #   StreamName.for("assistant_conversation_42") the String itself
    #   StreamName.target(conversation)       "conversation_42" (dom_id)
    module StreamName
      module_function

      # turbo-rails' Turbo::Streams::StreamName#stream_name_from: each streamable's
      # GlobalID param (else its to_param), joined by ":".
      def for(streamables)
        if streamables.is_a?(Array)
          streamables.map { |streamable| self.for(streamable) }.join(":")
        elsif streamables.respond_to?(:to_gid_param)
          streamables.to_gid_param
        elsif streamables.respond_to?(:to_param)
          streamables.to_param.to_s
        else
          streamables.to_s
        end
      end

      # The prefix of the DOM ids broadcasts target ("<prefix>_reply", "_status", ...):
      # the dom_id of the last record among the streamables, else the stream name with
      # anything but letters, digits, "_" and "-" turned into "_".
      def target(streamables)
        list = streamables.is_a?(Array) ? streamables : [streamables]
        record = list.reverse.find { |streamable| streamable.respond_to?(:to_key) && streamable.respond_to?(:model_name) }
        return dom_id(record) if record

        self.for(streamables).gsub(/[^A-Za-z0-9_-]/, "_")
      end

      def dom_id(record)
        return ::ActionView::RecordIdentifier.dom_id(record) if defined?(::ActionView::RecordIdentifier)

        key = Array(record.to_key).join("_")
        key.empty? ? "new_#{record.model_name.param_key}" : "#{record.model_name.param_key}_#{key}"
      end
    end
  end
end
