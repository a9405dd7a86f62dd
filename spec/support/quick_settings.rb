# frozen_string_literal: true

# The gem's settings wherever a Sidekiq worker runs turns against LocalProvider: the
# in-process one (WorkerHarness) and the worker process of its own
# (spec/rails_app/script/worker_process.rb, which WorkerProcess starts for the specs and the
# soak run). Retries, timeouts and polls short enough that a fault costs a fraction of a
# second, and the registry's models pointed at LocalProvider. One place, so both workers
# run the same turn the same way.
module QuickSettings
  TIMES = {retry_base_delay: 0.05, retry_max_delay: 0.2, stall_timeout: 2, connect_timeout: 2,
           broadcast_interval: 0.1, cancel_poll_interval: 0.2}.freeze

  module_function

  # config: an AssistantChatNative::Configuration. base_url: provider name => the base URL
  # LocalProvider serves it at; every model keeps its key, provider, id and tier.
  def apply(config, base_url:, api_key:)
    TIMES.each { |name, value| config.public_send(:"#{name}=", value) }
    config.models.to_a.each do |entry|
      config.models.register(entry.key, provider: entry.provider, model_id: entry.model_id, tier: entry.tier,
        base_url: base_url.call(entry.provider), api_key: api_key)
    end
  end
end
