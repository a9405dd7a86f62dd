# frozen_string_literal: true

require_relative "assistant_chat_native/version"
require_relative "assistant_chat_native/error"
require_relative "assistant_chat_native/clock"
require_relative "assistant_chat_native/tool_call"
require_relative "assistant_chat_native/result"
require_relative "assistant_chat_native/sse"
require_relative "assistant_chat_native/native"
# After the extension: the taxonomy takes its rows from it when it is loaded.
require_relative "assistant_chat_native/failure"
# The extension defines Stream itself (so the autoload below never fires when it is
# loaded): its Ruby half (keyword arguments, defaults, inspect) is required here.
require_relative "assistant_chat_native/stream" if AssistantChatNative.native?

# Streams LLM replies for assistant chats in C, off the GVL, behind a drop-in
# Sidekiq worker. See README.md for the public API.
module AssistantChatNative
  # Loaded on first use, so a plain `require "assistant_chat_native"` stays cheap
  # and needs neither Sidekiq nor ActiveRecord.
  autoload :Stream, "assistant_chat_native/stream"
  autoload :RubyStream, "assistant_chat_native/ruby_stream"
  autoload :LocalProvider, "assistant_chat_native/local_provider"
  autoload :Configuration, "assistant_chat_native/configuration"
  autoload :ModelRegistry, "assistant_chat_native/model_registry"
  autoload :Tool, "assistant_chat_native/tool"
  autoload :Turn, "assistant_chat_native/turn"
  autoload :Outcome, "assistant_chat_native/outcome"
  autoload :Request, "assistant_chat_native/request"
  autoload :Providers, "assistant_chat_native/providers"
  autoload :RetryPolicy, "assistant_chat_native/retry_policy"
  autoload :Compactor, "assistant_chat_native/compactor"
  autoload :Heartbeat, "assistant_chat_native/heartbeat"
  autoload :Worker, "assistant_chat_native/worker"
  # The ActiveJob class: loads ActiveJob (and Worker, whose helpers it shares) on first use.
  autoload :Job, "assistant_chat_native/job"
  autoload :Broadcaster, "assistant_chat_native/broadcaster"
  autoload :ProcessingLock, "assistant_chat_native/processing_lock"
  autoload :Reaper, "assistant_chat_native/reaper"
  autoload :ReaperJob, "assistant_chat_native/reaper_job"

  # The seed worker's constants, shared by Turn and Worker.
  HEARTBEAT_INTERVAL = 30           # seconds between heartbeats, while streaming and while tools run
  MAX_COMPACTION_RETRIES = 2        # context-overflow compactions per turn before giving up
  ESCALATION_MODEL = "claude-sonnet" # registry key a low-tier model escalates to, once per turn

  # The gem's settings (see Configuration for every option and its default).
  def self.config
    @config ||= Configuration.new
  end

  #   AssistantChatNative.configure do |config|
  #     config.stall_timeout = 45
  #     config.models.register("claude-opus", provider: :anthropic, model_id: "claude-opus-5-5", tier: :high)
  #   end
  def self.configure
    yield config
    config
  end

  # Back to the defaults (tests, or a host that reconfigures from scratch).
  def self.reset_config!
    @config = Configuration.new
  end

  # Swaps in a whole Configuration (a test that changes settings puts the old one back).
  class << self
    attr_writer :config
  end
end

# Inside a Rails app: the worker, broadcaster, lock concern and rake tasks.
require_relative "assistant_chat_native/railtie" if defined?(::Rails::Railtie)
