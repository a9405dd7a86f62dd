# frozen_string_literal: true

require "digest"
require "rspec/core/rake_task"

# `rake spec:sdk`: the providers' official SDKs (npm: @anthropic-ai/sdk, openai,
# @google/genai, pinned in spec/sdk_agreement/package-lock.json) stream from LocalProvider
# and must read each scenario as Stream and RubyStream do. Needs node 20 or newer and
# npm; the SDKs are installed with `npm ci` into spec/sdk_agreement/node_modules when
# the lock file changed since the last install. Its spec file ends in _agreement.rb,
# outside `rake spec`'s pattern, so that `rake spec` needs no node.
namespace :spec do
  dir = "spec/sdk_agreement"
  # Written after a successful npm ci: the digest of the lock file it installed.
  stamp = File.join(dir, "node_modules", ".installed-lock-sha256")
  # The oldest node the pinned SDKs run on.
  oldest_node = 20

  desc "The official SDKs read LocalProvider's streams as the gem does (needs node #{oldest_node}+, npm)"
  RSpec::Core::RakeTask.new(:sdk) do |task|
    task.pattern = "#{dir}/**/*_agreement.rb"
  end
  task sdk: %i[compile sdk:install]

  namespace :sdk do
    task :install do
      version = `node --version 2>/dev/null`.strip
      major = version[/\Av(\d+)\./, 1].to_i
      if major < oldest_node
        abort "spec:sdk needs node #{oldest_node} or newer and npm " \
          "(found #{version.empty? ? "no node" : "node #{version}"}); install them, or skip this task"
      end
      lock = Digest::SHA256.file(File.join(dir, "package-lock.json")).hexdigest
      installed = File.exist?(stamp) && File.read(stamp).strip == lock
      unless installed
        # --ignore-scripts: the SDKs need no install step, and none of their dependencies' runs.
        sh "npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", chdir: dir
        File.write(stamp, "#{lock}\n")
      end
    end
  end
end
