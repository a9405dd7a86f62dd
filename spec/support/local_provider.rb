# frozen_string_literal: true

# One LocalProvider for the whole suite, started on first use and stopped at
# exit; examples tagged :local_provider (or calling #local_provider) get it
# reset (no queued scripts, no recorded requests) before they run.
#
#   it "streams the scripted reply", :local_provider do
#     local_provider.enqueue(text: "Hi")
#     stream = AssistantChatNative::Stream.new(provider: :anthropic,
#       url: local_provider.endpoint_for(:anthropic), body: ...)
#   end
#
# with_local_provider(**options) { |provider| ... } starts a private one (own
# defaults, own port) and stops it after the block.
module LocalProviderHelper
  class << self
    def shared
      @shared ||= AssistantChatNative::LocalProvider.start.tap do |provider|
        at_exit { provider.stop }
      end
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
  config.before(:each, :local_provider) { LocalProviderHelper.shared.reset }
  config.after(:suite) { LocalProviderHelper.instance_variable_get(:@shared)&.stop }
end
