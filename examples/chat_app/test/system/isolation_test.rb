require "application_system_test_case"

# One user's conversation is theirs alone: its page, its form, its Stop button and its
# stream.
class IsolationTest < ApplicationSystemTestCase
  test "another user cannot open, post to or stop a conversation" do
    conversation = open_conversation(@ada)

    using_session(:grace) do
      sign_in(@grace)
      visit conversation_path(conversation)
      assert_equal 404, page.status_code
      assert_no_text conversation.title

      visit conversations_path
      assert_equal 200, page.status_code
      assert_equal 404, post_from_page(conversation_messages_path(conversation), "message[content]" => "Hi")
      assert_equal 404, post_from_page(conversation_cancellation_path(conversation))
    end

    assert_equal 0, conversation.messages.count
    assert_nil conversation.reload.cancel_requested_at
    assert_equal 0, Sidekiq::Queue.new.size, "no turn was enqueued"
  end

  test "another user, or a signed-out browser, cannot subscribe to a conversation's stream" do
    conversation = open_conversation(@ada)
    signed = Turbo::StreamsChannel.signed_stream_name(conversation)
    unsigned = conversation.to_gid_param
    forged = "#{Base64.strict_encode64(unsigned.to_json)}--#{"0" * 64}"

    # A positive control on the owner's page: a second subscription with the real name
    # counts what arrives, so a count of zero elsewhere means something.
    add_stream_source("owner", "ConversationStreamsChannel", signed)
    assert_selector "turbo-cable-stream-source#owner[connected]", visible: :all

    using_session(:grace) do
      open_conversation(@grace)
      add_stream_source("unsigned", "Turbo::StreamsChannel", unsigned)
      add_stream_source("forged", "Turbo::StreamsChannel", forged)
      # A signed name copied from the owner's page: Turbo verifies it, the channel
      # refuses it because the conversation is not Grace's.
      add_stream_source("copied", "ConversationStreamsChannel", signed)
    end

    using_session(:signed_out) do
      visit new_session_path
      add_stream_source("signed_out", "ConversationStreamsChannel", signed)
    end

    send_message("Say something")
    assert_selector ".message--assistant .message__body", exact_text: LocalModel::PLAIN_REPLY
    assert_operator received("owner"), :>, 3

    using_session(:grace) do
      %w[unsigned forged copied].each do |name|
        assert_equal 0, received(name), "#{name}: a broadcast reached another user's page"
        assert_no_selector "turbo-cable-stream-source##{name}[connected]", visible: :all
      end
      assert_no_text "Say something"
    end
    using_session(:signed_out) do
      assert_equal 0, received("signed_out"), "a broadcast reached a signed-out page"
    end
  end

  private

  # POSTs from the signed-in page, as a crafted form would; returns the status.
  def post_from_page(path, fields = {})
    evaluate_async_script(<<~JS, path, fields)
      const [path, fields, done] = arguments
      const body = new FormData()
      for (const [name, value] of Object.entries(fields)) body.append(name, value)
      const token = document.querySelector("meta[name=csrf-token]")?.content
      fetch(path, { method: "POST", body, headers: { "X-CSRF-Token": token, Accept: "text/vnd.turbo-stream.html" } })
        .then((response) => done(response.status))
    JS
  end

  # Adds a <turbo-cable-stream-source> to the page that counts the broadcasts it gets.
  def add_stream_source(id, channel, stream_name)
    execute_script(<<~JS, id, channel, stream_name)
      const [id, channel, name] = arguments
      window.received ||= {}
      window.received[id] = 0
      const source = document.createElement("turbo-cable-stream-source")
      source.id = id
      source.setAttribute("channel", channel)
      source.setAttribute("signed-stream-name", name)
      // An extra param of its own: Action Cable refuses a second subscription with the
      // same identifier as the page's own.
      source.dataset.probe = id
      source.addEventListener("message", () => window.received[id] += 1)
      document.body.appendChild(source)
    JS
  end

  def received(id)
    evaluate_script("window.received[#{id.to_json}]")
  end
end
