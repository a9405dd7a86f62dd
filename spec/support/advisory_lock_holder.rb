# frozen_string_literal: true

# Holds a conversation's advisory lock on a thread and database session of its own,
# as a live job does, until #release. The specs use it to make a conversation busy.
class AdvisoryLockHolder
  def initialize(model, key)
    held = Queue.new
    @release = Queue.new
    @thread = Thread.new do
      model.connection_pool.with_connection do
        model.with_advisory_lock(key) do
          held << true
          @release.pop
        end
      end
    end
    held.pop
  end

  # Lets the lock go and waits for the thread; safe to call more than once.
  def release
    @release << true
    @thread.join
  end
end
