# frozen_string_literal: true

require "spec_helper"
require "open3"

# turbo-rails changes how every broadcast is delivered, so each turn runs in an
# app process of its own (spec/rails_app/script/turbo_turn.rb), on its own Redis
# database, with real Sidekiq and LocalProvider, listening where
# `turbo_stream_from conversation` does.
RSpec.describe "AssistantChatWorker in an app with turbo-rails" do
  def run_turn(env = {})
    redis_url = TestServices.redis_url.sub(%r{/0\z}, "/3")
    env = env.merge("ACN_REDIS_URL" => redis_url, "BUNDLE_GEMFILE" => File.join(SpecRailsApp::GEM_ROOT, "Gemfile"))
    output, status = Open3.capture2e(env, RbConfig.ruby, File.join(SpecRailsApp::SOURCE, "script", "turbo_turn.rb"))
    expect(status).to be_success, output
    line = output.lines.find { |candidate| candidate.start_with?("TURBO_BROADCASTS ") }
    expect(line).not_to be_nil, output
    JSON.parse(line.delete_prefix("TURBO_BROADCASTS "))
  end

  def stream_element(action, target, html)
    %(<turbo-stream action="#{action}" target="#{target}"><template>#{html}</template></turbo-stream>)
  end

  let(:reply_html) { "Sales &lt;b&gt;rose&lt;/b&gt; &amp; fell, then rose again by a third in the spring." }

  # The reply's elements: an update that starts it, appends of the escaped pieces
  # after it, then the final one; returns [pieces, final element].
  def reply_elements(result)
    target = "#{result["target"]}_reply"
    elements = result["messages"].select { |message| message.include?(%(target="#{target}")) }
    pattern = %r{\A<turbo-stream action="(update|append)" target="#{target}"><template>(.*)</template></turbo-stream>\z}m
    pieces = elements[0...-1].map { |element| element.match(pattern)&.captures }
    expect(pieces).to all(be_an(Array)), elements.inspect
    [pieces, elements.last]
  end

  it "updates the reply once, then appends each escaped piece, then updates it whole; lock first and last" do
    result = run_turn
    target = result["target"]
    messages = result["messages"]

    expect(result["turbo"]).to be(true)
    expect(messages.first).to eq(stream_element("update", "#{target}_lock", "processing"))
    expect(messages.last).to eq(stream_element("update", "#{target}_lock", ""))
    pieces, final = reply_elements(result)
    expect(pieces.map(&:first)).to eq(["update"] + ["append"] * (pieces.size - 1))
    expect(pieces.size).to be >= 3
    expect(pieces.map(&:last).join).to eq(reply_html)
    expect(final).to eq(stream_element("update", "#{target}_reply", reply_html))
    expect(messages.join).not_to include("<b>")
  end

  it "replaces the reply with the app's message partial at the end, leaving an empty reply target for the next turn" do
    result = run_turn("ACN_MESSAGE_PARTIAL" => "1")
    target = "#{result["target"]}_reply"
    pieces, final = reply_elements(result)

    expect(pieces.map(&:last).join).to eq(reply_html)
    expect(final).to eq(stream_element("replace", target,
      %(<div id="message_#{result["message_id"]}" class="message">#{reply_html}</div><div id="#{target}"></div>)))
  end

  it "empties the tool status line when the message partial replaces the reply" do
    result = run_turn("ACN_MESSAGE_PARTIAL" => "1", "ACN_TOOL_FIRST" => "1")
    status = "#{result["target"]}_status"
    statuses = result["messages"].select { |message| message.include?(%(target="#{status}")) }
    expect(statuses.first).to eq(stream_element("update", status, "Querying the database: SELECT 1"))

    final = result["messages"].find { |message| message.start_with?(%(<turbo-stream action="replace")) }
    expect(final).to end_with(%(<div id="#{result["target"]}_reply"></div></template></turbo-stream>) +
      stream_element("update", status, ""))
  end
end
