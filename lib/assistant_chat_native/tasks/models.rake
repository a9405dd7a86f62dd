# frozen_string_literal: true

# Packaged with the gem (lib/**/*.rake), so the Railtie can load it in an installed app;
# rakelib/models.rake loads it into the gem's own Rakefile.

namespace :assistant_chat_native do
  desc "List the model registry: key, provider, model id, tier, thinking, end of life, prices"
  task :models do
    # In an app, :environment runs the initializers that register models; in the gem, the defaults.
    Rake::Task[:environment].invoke if Rake::Task.task_defined?(:environment)
    require "assistant_chat_native"
    require "assistant_chat_native/model_registry/table"
    puts AssistantChatNative::ModelRegistry::Table.new(AssistantChatNative.config.models)
  end
end
