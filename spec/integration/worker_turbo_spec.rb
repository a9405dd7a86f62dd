# frozen_string_literal: true

require "spec_helper"
require "open3"

# turbo-rails changes how every broadcast is delivered, so this turn runs in an
# app process of its own (spec/rails_app/script/turbo_turn.rb), on its own Redis
# database, with real Sidekiq and LocalProvider.
RSpec.describe "AssistantChatWorker in an app with turbo-rails" do
  it "broadcasts Turbo Stream elements through Turbo::StreamsChannel, the reply HTML-escaped" do
    redis_url = TestServices.redis_url.sub(%r{/0\z}, "/3")
    env = {"ACN_REDIS_URL" => redis_url, "BUNDLE_GEMFILE" => File.join(SpecRailsApp::GEM_ROOT, "Gemfile")}
    output, status = Open3.capture2e(env, RbConfig.ruby, File.join(SpecRailsApp::SOURCE, "script", "turbo_turn.rb"))
    expect(status).to be_success, output
    line = output.lines.find { |candidate| candidate.start_with?("TURBO_BROADCASTS ") }
    expect(line).not_to be_nil, output
    result = JSON.parse(line.delete_prefix("TURBO_BROADCASTS "))
    stream = result["stream"]
    messages = result["messages"]

    expect(result["turbo"]).to be(true)
    expect(messages).to all(start_with("<turbo-stream action=\"update\" target=\"#{stream}_"))
    expect(messages.first).to eq(%(<turbo-stream action="update" target="#{stream}_lock"><template>processing</template></turbo-stream>))
    expect(messages.last).to eq(%(<turbo-stream action="update" target="#{stream}_lock"><template></template></turbo-stream>))
    expect(messages).to include(%(<turbo-stream action="update" target="#{stream}_reply"><template>Sales &lt;b&gt;rose&lt;/b&gt; &amp; fell.</template></turbo-stream>))
    expect(messages.join).not_to include("<b>")
  end
end
