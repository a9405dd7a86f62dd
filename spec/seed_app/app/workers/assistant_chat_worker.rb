class AssistantChatWorker < AssistantChatNative::Worker
  include AssistantChat::Broadcaster
  include Sidekiq::Job
  include Sidekiq::Status::Worker
end
