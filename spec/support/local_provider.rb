# frozen_string_literal: true

# One LocalProvider for the whole suite, started on first use (#local_provider)
# and stopped after the suite; once started, it is reset (no queued scripts, no
# respond_with block, no recorded requests) before every example.
#
#   it "streams the scripted reply" do
#     local_provider.enqueue(text: "Hi")
#     stream = AssistantChatNative::Stream.new(provider: :anthropic,
#       url: local_provider.endpoint_for(:anthropic), body: ...)
#   end
#
# with_local_provider(**options) { |provider| ... } starts a private one (own
# defaults, own port) and stops it after the block.
module LocalProviderHelper
  LOCK = Mutex.new

  class << self
    def shared
      LOCK.synchronize { @shared ||= AssistantChatNative::LocalProvider.start(log: nil) }
    end

    def reset
      LOCK.synchronize { @shared }&.reset
    end

    def stop
      provider = LOCK.synchronize { @shared.tap { @shared = nil } }
      provider&.stop
    end
  end

  def local_provider
    LocalProviderHelper.shared
  end

  def with_local_provider(**options)
    provider = AssistantChatNative::LocalProvider.start(**options)
    yield provider
  ensure
    provider&.stop
  end
end

RSpec.configure do |config|
  config.include LocalProviderHelper
  config.before(:each) { LocalProviderHelper.reset }
  config.after(:suite) { LocalProviderHelper.stop }
end
