# frozen_string_literal: true

require "rspec/core/rake_task"

# `rake spec:seed_app`: the scenarios of the app shaped like the seed's
# (spec/seed_app: AssistantConversation, Party, its own messages table,
# ErrorReporting and AssistantChat::Broadcaster), which installs the gem with the
# generator and changes only its worker's superclass. A Rails app boots once per
# process, so they run in an rspec process of their own; their files end in
# _scenario.rb, outside `rake spec`'s pattern.
namespace :spec do
  RSpec::Core::RakeTask.new(:seed_app) do |task|
    task.pattern = "spec/seed_app/scenarios/**/*_scenario.rb"
  end
  task seed_app: :compile
end
