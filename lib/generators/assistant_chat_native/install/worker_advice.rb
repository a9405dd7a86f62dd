# frozen_string_literal: true

require "assistant_chat_native/worker"

module AssistantChatNative
  module Generators
    # What to change in a worker file the app already has, so it becomes the
    # gem's worker: the superclass, and which of its methods the gem now
    # provides. The generator prints it and leaves the file alone: the app's
    # code is the app's to edit.
    class WorkerAdvice
      def initialize(source:, worker_class:, path:)
        @source = source
        @worker_class = worker_class
        @path = path
      end

      # The lines to print.
      def lines
        lines = ["#{@path} exists and was left as it is. To make it the gem's worker:"]
        step = 0
        unless inherits?
          lines << "  #{step += 1}. Change `#{class_line.strip}` to `class #{@worker_class} < AssistantChatNative::Worker`."
        end
        if provided.any?
          lines << "  #{step += 1}. Delete these methods: AssistantChatNative::Worker provides them: #{provided.join(", ")}."
        end
        if hooks.any?
          lines << "  #{step += 1}. These override the gem's hooks (AssistantChatNative::Worker::Hooks); keep one " \
            "only where the app's differs from the default: #{hooks.join(", ")}."
        end
        lines << "  Nothing to change." if step.zero?
        lines
      end

      # Whether the class already inherits from AssistantChatNative::Worker.
      def inherits?
        class_line.match?(/<\s*(::)?AssistantChatNative::Worker\b/)
      end

      # Methods of the file's body that the gem's worker itself defines.
      def provided
        defined_methods & worker_methods
      end

      # Methods of the file's body that are the gem's hooks.
      def hooks
        defined_methods & hook_methods
      end

      private

      def class_line
        @source[/^\s*class\s+#{Regexp.escape(@worker_class)}\b[^\n]*/] || "class #{@worker_class}"
      end

      def defined_methods
        @source.scan(/^\s*def\s+(?:self\.)?([a-z_]\w*[!?=]?)/).flatten.uniq
      end

      # The worker's own methods (its turn's, TurnJob's, included) and the hooks' private helpers.
      def worker_methods
        worker = AssistantChatNative::Worker
        turn = AssistantChatNative::TurnJob
        names = worker.instance_methods(false) + worker.private_instance_methods(false) +
          turn.instance_methods(false) + turn.private_instance_methods(false) +
          worker::Hooks.private_instance_methods
        names.map(&:to_s) - hook_methods
      end

      # The hooks an app's worker overrides (public methods of Worker::Hooks).
      def hook_methods
        AssistantChatNative::Worker::Hooks.instance_methods.map(&:to_s)
      end
    end
  end
end
