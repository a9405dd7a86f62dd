# frozen_string_literal: true

require "tmpdir"

namespace :package do
  desc "Build the gem, install it into a scratch GEM_HOME, and load it there"
  task :check do
    # The example app and the README's images stay in the repository.
    shipped = GEMSPEC.files.grep(%r{\A(examples|doc)/})
    abort "package: the gem would ship #{shipped.first(3).join(", ")}; keep examples/ and doc/ out of the gemspec's files" if shipped.any?
    Dir.mktmpdir("acn-package") do |dir|
      sh "gem build assistant_chat_native.gemspec --output #{dir}/assistant_chat_native.gem"
      home = File.join(dir, "gems")
      # Dependencies come from this machine's gems; only our gem is installed fresh.
      env = {"GEM_HOME" => home, "GEM_PATH" => [home, *Gem.path].join(File::PATH_SEPARATOR)}
      sh env, "gem install --local --ignore-dependencies --no-document #{dir}/assistant_chat_native.gem"
      probe = 'require "assistant_chat_native"; ' \
              'abort "the installed gem did not load its C extension" unless AssistantChatNative.native?; ' \
              'puts "package: " + AssistantChatNative::VERSION + " installs and loads its extension"'
      Bundler.with_unbundled_env { sh env, "ruby", "-e", probe }
      # Without the extension the failure taxonomy is read from the data file the gem ships.
      pure = 'require "assistant_chat_native"; ' \
             'abort "the installed gem did not read its failure_kinds.def" unless ' \
             "AssistantChatNative::Taxonomy::SOURCE == :file && AssistantChatNative::Taxonomy::KINDS.any?; " \
             'puts "package: without the extension, the taxonomy is read from the shipped file"'
      Bundler.with_unbundled_env { sh env.merge("ASSISTANT_CHAT_NATIVE_PURE" => "1"), "ruby", "-e", pure }
    end
  end
end
