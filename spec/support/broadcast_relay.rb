# frozen_string_literal: true

require "redis-client"

# Publishes every Action Cable broadcast of this process on Redis pubsub as well, where a
# process of its own listens as a page would. Action Cable in the spec app is in-process
# (the inline adapter; the redis gem is not installed), so without the relay a broadcast
# made in a worker process, or by the soak run's Reaper, reaches no one outside it.
module BroadcastRelay
  module_function

  def install(redis_url)
    # One connection for every job thread; a RedisClient is not thread-safe.
    relay = RedisClient.new(url: redis_url)
    relay_lock = Mutex.new
    ActionCable::Server::Base.prepend(Module.new do
      define_method(:broadcast) do |broadcasting, message, coder: ActiveSupport::JSON|
        super(broadcasting, message, coder: coder).tap do
          relay_lock.synchronize { relay.call("PUBLISH", broadcasting, coder.encode(message)) }
        end
      end
    end)
  end
end
