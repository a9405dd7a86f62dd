require "application_system_test_case"

# The page around a running turn: the lock, Stop, errors and tool status lines.
class TurnControlsTest < ApplicationSystemTestCase
  BUSY = "This conversation is currently being processed. Please try again in a moment."

  test "a second window sees the conversation locked, and is told it is busy when it sends anyway" do
    conversation = open_conversation(@ada)
    send_message("Give me a long answer")
    assert_selector "#message_content[disabled]"
    assert_selector "#stop_button"

    using_session(:second_window) do
      sign_in(@ada)
      visit conversation_path(conversation)
      assert_selector "turbo-cable-stream-source[connected]", visible: :all
      assert_selector "#message_content[disabled]"
      assert_selector "input[type=submit][value=Send][disabled]"

      # Around the page's lock: enable the form and send.
      execute_script(<<~JS)
        document.querySelector("#message_content").disabled = false
        document.querySelector("#message_form input[type=submit]").disabled = false
      JS
      send_message("Me too")
      assert_selector "##{dom_id_of(conversation)}_error", text: BUSY
    end

    # The busy copy goes to every window on the conversation, and moves this page's
    # layout: Stop is clicked (at its coordinates) once it has arrived here too.
    assert_selector "##{dom_id_of(conversation)}_error", text: BUSY
    click_on "Stop"
    assert_no_selector "#message_content[disabled]", wait: 5
  end

  test "Stop ends the turn within a second and keeps the reply so far, after a reload too" do
    conversation = open_conversation(@ada)
    send_message("Give me a long answer")
    assert_selector reply_selector(conversation), text: "This is a long answer"

    click_on "Stop"
    assert_selector ".message--assistant .message__note", text: "Stopped", wait: 1
    assert_no_selector "#message_content[disabled]"
    kept = find(".message--assistant .message__body").text
    assert_not_empty kept
    assert LocalModel::LONG_REPLY.start_with?(kept), "#{kept.inspect} is not a prefix of the reply"
    assert_operator kept.length, :<, LocalModel::LONG_REPLY.length, "the turn was not stopped before its end"

    visit conversation_path(conversation)
    assert_selector ".message--assistant .message__note", text: "Stopped"
    assert_equal kept, find(".message--assistant .message__body").text
  end

  test "a provider error shows its friendly copy and unlocks the input" do
    conversation = open_conversation(@ada)
    send_message("Make this fail, please")
    assert_selector "##{dom_id_of(conversation)}_error",
      text: "The assistant couldn't sign in to its AI service. Please let your administrator know."
    assert_no_selector "#message_content[disabled]"
    assert_no_selector "#stop_button"

    # The next turn clears the error when it takes the lock.
    send_message("Hello again")
    assert_selector "#message_content[disabled]"
    assert_selector "##{dom_id_of(conversation)}_error", exact_text: ""
    assert_selector ".message--assistant .message__body", exact_text: LocalModel::PLAIN_REPLY
  end

  test "a tool's status line shows while it runs, then goes with the reply" do
    conversation = open_conversation(@ada)
    status = "##{dom_id_of(conversation)}_status"
    send_message("What is the weather in Oslo?")
    assert_selector status, text: "Looking up the weather"
    assert_selector ".message--assistant .message__body", text: "In Oslo it is snowing and -3 °C."
    assert_selector status, exact_text: ""

    send_message("How many conversations do I have?")
    assert_selector status, text: "Counting your conversations"
    # Read from the database while the turn runs: both questions, the first reply, and
    # this turn's reply row (saved from its first words on).
    assert_selector ".message--assistant .message__body", text: "You have 1 conversation with 4 messages in them."
    assert_selector status, exact_text: ""
  end

  test "a reload in the middle of a turn shows the reply so far, then keeps streaming to the end" do
    conversation = open_conversation(@ada)
    send_message("Give me a long answer")
    assert_selector reply_selector(conversation), text: "This is a long answer"

    visit conversation_path(conversation)
    shown = reply_text(conversation)
    assert_not_empty shown, "the reloaded page shows the reply so far"
    assert LocalModel::LONG_REPLY.start_with?(shown), "#{shown.inspect} is not a prefix of the reply"
    assert_selector "#message_content[disabled]"

    # It keeps growing in place (each state a prefix of the reply), then completes.
    assert_selector reply_selector(conversation), text: LocalModel::LONG_REPLY[0, shown.length + 20]
    grown = reply_text(conversation)
    assert LocalModel::LONG_REPLY.start_with?(grown), "#{grown.inspect} is not a prefix of the reply"
    assert_selector ".message--assistant .message__body", exact_text: LocalModel::LONG_REPLY, wait: 60
    assert_equal "", reply_text(conversation)
  end

  private

  def dom_id_of(record)
    ActionView::RecordIdentifier.dom_id(record)
  end
end
