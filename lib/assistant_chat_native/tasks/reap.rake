# frozen_string_literal: true

# Packaged with the gem (lib/**/*.rake), so the Railtie can load it in an installed app.

namespace :assistant_chat_native do
  desc "Resume or fail the chat turns whose job died (WORKER=AssistantChatWorker, STALE_AFTER=seconds)"
  task :reap do
    Rake::Task[:environment].invoke if Rake::Task.task_defined?(:environment)
    require "assistant_chat_native"
    require "assistant_chat_native/reaper"
    stale_after = ENV["STALE_AFTER"] && Float(ENV["STALE_AFTER"])
    reaped = AssistantChatNative::Reaper.new(worker: ENV["WORKER"], stale_after: stale_after).call
    reaped.each { |id, outcome| puts "conversation #{id}: #{outcome}" }
    puts "nothing to reap" if reaped.empty?
  end
end
