require "test_helper"
require "capybara/cuprite"

# Headless Chromium (Debian's package) through Cuprite. The flags keep it off the
# network (this is a loopback-only test) and let it run as root; Ferrum gives each
# browser a fresh user-data-dir of its own.
Capybara.register_driver(:chat_cuprite) do |app|
  Capybara::Cuprite::Driver.new(app,
    browser_path: ENV.fetch("CHROMIUM_PATH", "/usr/bin/chromium"),
    window_size: [1000, 560],
    headless: true,
    # Headroom for a machine busy with other work: a slow page is not a failed test.
    timeout: 30, process_timeout: 30,
    browser_options: {
      "no-sandbox" => nil, "disable-background-networking" => nil, "disable-component-update" => nil,
      "disable-sync" => nil, "no-first-run" => nil, "disable-quic" => nil, "disable-gpu" => nil
    })
end
Capybara.default_max_wait_time = 10
Capybara.server = :puma, {Silent: true}

# Commit-based: the turns run in a Sidekiq process, which sees only committed rows.
class ApplicationSystemTestCase < ActionDispatch::SystemTestCase
  driven_by :chat_cuprite

  self.use_transactional_tests = false

  PASSWORD = "password"

  # turbo-rails includes ActionCable::TestHelper in every test case, which swaps
  # Action Cable's Redis adapter for an in-memory one before each test. Here the
  # Sidekiq process broadcasts and this process's Puma delivers: only Redis joins
  # them, so the adapter the app configured goes back (after_teardown restores the
  # same one).
  def before_setup
    super
    ActionCable.server.instance_variable_set(:@pubsub, @old_pubsub_adapter) if @old_pubsub_adapter
  end

  setup do
    ChatServices.start
    clean_tables
    @ada = User.create!(name: "Ada", email: "ada@example.com", password: PASSWORD)
    @grace = User.create!(name: "Grace", email: "grace@example.com", password: PASSWORD)
  end

  teardown do
    ChatServices.wait_until_idle
    clean_tables
  end

  private

  # Ids go on from test to test, so no page subscribes to an earlier test's stream.
  def clean_tables
    ActiveRecord::Base.connection.execute("TRUNCATE users, conversations, messages CASCADE")
  end

  def sign_in(user)
    visit new_session_path
    fill_in "Email", with: user.email
    fill_in "Password", with: PASSWORD
    click_on "Sign in"
    assert_text "Your conversations"
  end

  # Signs in and opens a new conversation, with its stream subscribed (so no
  # broadcast is missed); returns the conversation.
  def open_conversation(user)
    sign_in(user)
    click_on "New conversation"
    assert_selector "turbo-cable-stream-source[connected]", visible: :all
    user.conversations.order(:id).last
  end

  def send_message(text)
    fill_in "message_content", with: text
    click_on "Send"
  end

  def reply_selector(conversation)
    "##{ActionView::RecordIdentifier.dom_id(conversation)}_reply"
  end

  # The streaming reply's text now (empty when the element is gone or empty).
  def reply_text(conversation)
    evaluate_script("document.querySelector('#{reply_selector(conversation)}')?.textContent || ''")
  end

  def last_assistant_body
    find_all(".message--assistant .message__body").last&.text
  end

  def screenshot_dir
    ENV.fetch("SCREENSHOT_DIR") { Rails.root.join("tmp", "screenshots").to_s }.tap { |dir| FileUtils.mkdir_p(dir) }
  end
end
