# frozen_string_literal: true

require "date"
require "set"
require_relative "lifecycle"

module AssistantChatNative
  class ModelRegistry
    # Logs a warning for a model whose end of life is past or within Lifecycle::WARN_WITHIN_DAYS:
    # at boot for every registered model (the Railtie), and when a Turn starts on one, once per
    # model id per process so a busy worker does not repeat it on every request.
    module RetirementWarning
      @warned = Set.new
      @mutex = Mutex.new

      # The warning for entry on today, or nil when it has no date or the date is far off.
      def self.message(entry, today: Date.today)
        date = entry.retires_on
        return nil unless date && Lifecycle.days_left(date, today: today) <= Lifecycle::WARN_WITHIN_DAYS

        replacement = entry.replacement ? "; the provider's replacement is #{entry.replacement}" : ""
        verb = (date <= today) ? "reached its end of life on" : "reaches its end of life on"
        "model #{entry.key.inspect} (#{entry.model_id}) #{verb} #{date.iso8601} " \
          "(#{Lifecycle.describe(date, today: today)})#{replacement}: requests to it fail after that " \
          "date; register #{entry.key.inspect} with a current model_id"
      end

      # Warns about every entry of registry that needs it (boot); returns the messages logged.
      def self.check_all(registry, logger:, today: Date.today)
        registry.filter_map { |entry| warn(entry, logger: logger, today: today) }
      end

      # Warns about entry unless its model id was warned about already in this process.
      def self.warn_once(entry, logger:, today: Date.today)
        text = message(entry, today: today)
        return nil unless text
        return nil unless @mutex.synchronize { @warned.add?(entry.model_id) }

        logger.warn(text)
        text
      end

      def self.warn(entry, logger:, today: Date.today)
        text = message(entry, today: today)
        return nil unless text

        @mutex.synchronize { @warned.add(entry.model_id) }
        logger.warn(text)
        text
      end

      # Forgets which ids were warned about (tests).
      def self.reset!
        @mutex.synchronize { @warned.clear }
      end
    end
  end
end
