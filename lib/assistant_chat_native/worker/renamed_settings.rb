# frozen_string_literal: true

module AssistantChatNative
  class Worker
    # The worker's settings that were second names for the gem's own: each old name
    # still reads and sets the one setting on the Configuration (so the stream and the
    # worker can no longer disagree), and warns once per process where it is used.
    module RenamedSettings
      # Old name on config.worker => the Configuration setting it stands for.
      RENAMED = {chunk_broadcast_interval: :broadcast_interval,
                 cancel_check_interval: :cancel_poll_interval,
                 max_rounds_per_job: :max_rounds,
                 logger: :logger}.freeze

      @warned = {}
      @warned_lock = Mutex.new

      # Warns the first time an old name is used; returns whether it did. uplevel 2
      # points the warning at the line that used the old name (past this method and
      # the alias's).
      def self.warn_once(old_name)
        first = @warned_lock.synchronize { @warned.key?(old_name) ? false : (@warned[old_name] = true) }
        return false unless first

        new_name = RENAMED.fetch(old_name)
        Kernel.warn("AssistantChatNative: config.worker.#{old_name} is deprecated; " \
          "set config.#{new_name} (the one setting it now stands for)", uplevel: 2)
        true
      end

      # Forgets which old names warned (tests that check the warning).
      def self.reset_warnings!
        @warned_lock.synchronize { @warned.clear }
      end

      RENAMED.each do |old_name, new_name|
        define_method(old_name) do
          RenamedSettings.warn_once(old_name)
          configuration.public_send(new_name)
        end

        define_method(:"#{old_name}=") do |value|
          RenamedSettings.warn_once(old_name)
          configuration.public_send(:"#{new_name}=", value)
        end
      end
    end
  end
end
