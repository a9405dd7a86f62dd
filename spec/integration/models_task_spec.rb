# frozen_string_literal: true

require "spec_helper"
require "date"
require "fileutils"
require "open3"
require "tmpdir"

# `rake assistant_chat_native:models` and the boot-time retirement warning, run as real
# processes: the gem's own Rakefile, and a copy of the spec Rails app installed by the generator.
RSpec.describe "rake assistant_chat_native:models" do
  gem_root = File.expand_path("../..", __dir__)
  env = {"BUNDLE_GEMFILE" => File.join(gem_root, "Gemfile"), "RAILS_ENV" => "test", "ACN_ROOT" => gem_root}

  def run!(env, *command, chdir:)
    output, status = Open3.capture2e(env, *command, chdir: chdir)
    expect(status).to be_success, "#{command.join(" ")} failed:\n#{output}"
    output
  end

  it "prints the registry from the gem's Rakefile: key, provider, model id, tier, thinking, end of life, prices" do
    output = run!(env, "bundle", "exec", "rake", "assistant_chat_native:models", chdir: gem_root)
    lines = output.lines.map(&:rstrip)
    expect(lines.first.split(/\s{2,}/)).to eq(["key", "provider", "model id", "tier", "thinking", "end of life",
      "USD/MTok in/out/cache read/cache write"])
    expect(lines).to include(a_string_matching(/\Aclaude-sonnet\s+anthropic\s+claude-sonnet-5-5\s+high\s+off \(adaptive\)\s+none announced\s+2\.00\/10\.00\/0\.20\/2\.50\z/))
    expect(lines).to include(a_string_matching(/\Agpt-mini\s+openai\s+gpt-6\.1-terra\s+low\s+off \(effort\)\s+none announced\s+1\.00\/5\.00\/0\.05\/1\.25, over 272K prompt tokens 2\.00\/7\.50\/0\.10\/-\z/))
    expect(lines).to include(a_string_matching(/\Agemini-flash\s+gemini\s+gemini-3\.8-flash\s+low\s+off \(level\)\s+none announced\s+unknown\z/))
    expect(lines.size).to eq(7)
  end

  context "in a Rails app" do
    around do |example|
      Dir.mktmpdir("acn-models-app-") do |root|
        FileUtils.cp_r(File.join(gem_root, "spec", "rails_app", "."), root)
        FileUtils.mkdir_p(File.join(root, "log"))
        @root = root
        @env = env.merge("DATABASE_URL" => "sqlite3:#{File.join(root, "db.sqlite3")}")
        run!(@env, RbConfig.ruby, "bin/rails", "generate", "assistant_chat_native:install", chdir: root)
        File.write(File.join(root, "config", "initializers", "zz_models.rb"), <<~RUBY)
          AssistantChatNative.configure do |config|
            config.models.register("legacy-sonnet", provider: :anthropic, model_id: "claude-sonnet-4-5", thinking: 2048)
            config.models.register("gpt-soon", provider: :openai, model_id: "gpt-5", retires_on: "#{(Date.today + 12).iso8601}")
            config.models.register("gpt-later", provider: :openai, model_id: "gpt-5-mini", retires_on: "#{(Date.today + 90).iso8601}")
          end
        RUBY
        example.run
      end
    end

    it "lists the app's registrations with their end of life" do
      output = run!(@env, RbConfig.ruby, "bin/rails", "assistant_chat_native:models", chdir: @root)
      expect(output).to match(/^legacy-sonnet\s+anthropic\s+claude-sonnet-4-5\s+high\s+budget 2048 tokens\s+retired 2026-11-30, replacement claude-sonnet-5-5\s+unknown$/)
      expect(output).to match(/^gpt-soon\s+openai\s+gpt-5\s+high\s+off \(effort\)\s+in 12 days \(#{Date.today + 12}\), replacement gpt-6\.1-sol\s+unknown$/)
      expect(output).to match(/^claude-sonnet\s+anthropic\s+claude-sonnet-5-5/)
    end

    it "warns at boot about the models past or within 30 days of their end of life, and no others" do
      run!(@env, RbConfig.ruby, "bin/rails", "runner", "nil", chdir: @root)
      log = File.read(File.join(@root, "log", "test.log"))
      expect(log).to include('model "legacy-sonnet" (claude-sonnet-4-5) reached its end of life on 2026-11-30',
        'model "gpt-soon" (gpt-5) reaches its end of life on', "replacement is gpt-6.1-sol")
      expect(log).not_to include("gpt-later")
      expect(log).not_to include('"claude-sonnet"')
    end
  end
end
