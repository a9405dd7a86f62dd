# frozen_string_literal: true

# The app's ActiveJob class for chat turns, as `bin/rails generate
# assistant_chat_native:install --queue=active_job` writes it, its hooks left at their
# defaults like the generated AssistantChatWorker's. The app's adapter is Solid Queue.
class AssistantChatJob < AssistantChatNative::Job
end
