require "application_system_test_case"

class StreamingTest < ApplicationSystemTestCase
  test "the reply grows in the page as the model writes it, then becomes the saved message" do
    conversation = open_conversation(@ada)
    send_message("Tell me how this page works")
    assert_selector ".message--user", text: "Tell me how this page works"

    # Sample the streaming reply until the saved message replaces it.
    samples = []
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + 60
    until has_selector?(".message--assistant", wait: 0)
      text = reply_text(conversation)
      if !text.empty? && text != samples.last
        samples << text
        # Mid-stream: about half the reply shown.
        if !@mid_stream_saved && text.length > LocalModel::PLAIN_REPLY.length / 2
          save_screenshot(File.join(screenshot_dir, "chat-streaming.png"))
          @mid_stream_saved = true
        end
      end
      flunk "no complete reply within 60 s; saw #{samples.size} states" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline
    end

    final = find(".message--assistant .message__body").text
    assert_equal LocalModel::PLAIN_REPLY, final
    assert_operator samples.uniq.size, :>=, 3, "the reply should grow through 3 states at least, saw #{samples.inspect}"
    samples.each { |sample| assert final.start_with?(sample), "#{sample.inspect} is not a prefix of the final reply" }
    assert_equal "", reply_text(conversation), "the streaming area is empty for the next turn"
    assert_no_selector "#message_content[disabled]"
    save_screenshot(File.join(screenshot_dir, "chat-complete.png"))

    visit conversation_path(conversation)
    assert_equal final, find(".message--assistant .message__body").text, "a page load shows the same message"
  end
end
