# frozen_string_literal: true

require "spec_helper"
require "assistant_chat_native/redaction"
require "assistant_chat_native/ruby_stream"

RSpec.describe AssistantChatNative::Redaction do
  let(:key) { "sk-ant-api03-PLANTED0123456789abcdefXYZ" }

  describe ".url" do
    it "shows scheme, host, port and path, with userinfo and query replaced by the marker" do
      expect(described_class.url("https://gateway:#{key}@gw.example:8443/v1/chat?key=#{key}&alt=sse"))
        .to eq("https://[FILTERED]@gw.example:8443/v1/chat?[FILTERED]")
    end

    it "leaves a URL with nothing secret as it is, default port omitted" do
      expect(described_class.url("https://api.anthropic.com:443/v1/messages")).to eq("https://api.anthropic.com/v1/messages")
      expect(described_class.url("http://127.0.0.1:4567")).to eq("http://127.0.0.1:4567")
    end

    it "changes nothing in a URL it redacted before" do
      once = described_class.url("postgres://app:#{key}@db.internal:5432/app?sslpassword=#{key}")
      expect(described_class.url(once)).to eq(once)
      expect(described_class.text("at #{once} now")).to eq("at #{once} now")
    end

    it "shows only the marker for text that is not a URL with a host" do
      expect(described_class.url("#{key} not a url")).to eq("[FILTERED]")
      expect(described_class.url("mailto:#{key}")).to eq("[FILTERED]")
      expect(described_class.url(nil)).to be_nil
    end
  end

  describe ".key" do
    it "shows the marker for any key, never a part of it" do
      expect(described_class.key(key)).to eq("[FILTERED]")
      expect(described_class.key(nil)).to be_nil
    end
  end

  describe ".headers" do
    it "keeps the names and hides every value" do
      expect(described_class.headers("x-api-key" => key, "accept" => "text/event-stream"))
        .to eq("x-api-key" => "[FILTERED]", "accept" => "[FILTERED]")
    end
  end

  describe ".text" do
    it "removes keys, bearer tokens, labelled credentials and URL userinfo and queries" do
      text = "PG::Error: SELECT * FROM tokens WHERE value = '#{key}'; Authorization: Bearer abc.def.ghijk; " \
        "api_key=AIzaSyPLANTEDPLANTEDPLANTED01 at https://bot:hunter2@db.internal:5432/app?password=hunter2"
      redacted = described_class.text(text)

      expect(redacted).not_to include(key, "abc.def.ghijk", "AIzaSyPLANTED", "hunter2")
      expect(redacted).to include("PG::Error: SELECT * FROM tokens WHERE value = '[redacted]'",
        "https://[FILTERED]@db.internal:5432/app?[FILTERED]")
    end

    it "cuts the text to the byte bound at a character boundary and folds control characters" do
      redacted = described_class.text("é" * 400 + "\n\u0000tail", max_bytes: 101)

      expect(redacted.bytesize).to eq(100)
      expect(redacted).to eq("é" * 50)
      expect(described_class.text("a\n\u0000b")).to eq("a b")
    end

    it "reads only a bounded prefix of a huge message, and never shows the start of a key cut there" do
      huge = (" " * (described_class::LOG_BYTES * 8 + 1000)) + key
      expect(described_class.text(huge)).not_to include("sk-")
      expect(described_class.text("#{"x " * 5_000_000}#{key}", max_bytes: 64).bytesize).to be <= 64
    end

    it "cleans as the Ruby twin of the classifier's cleaner does", if: AssistantChatNative.native? do
      text = "token=#{key} and key=#{key} and x-goog-api-key: AIzaSyPLANTEDPLANTEDPLANTED01.\tdone\xFF"
      expect(AssistantChatNative.clean_text(text, 300))
        .to eq(AssistantChatNative::RubyStream::FallbackClassifier::CleanText.clean(text, 300))
    end
  end

  describe ".exception" do
    def raised(error_class, message, cause: nil)
      raise error_class, message, cause: cause
    rescue error_class => e
      e
    end

    it "returns an exception of the same class and backtrace whose message and causes hide the key" do
      inner = raised(ArgumentError, "inner #{key}")
      error = raised(IOError, "could not write /srv/app/.env: api_key=#{key}", cause: inner)

      shown = described_class.exception(error)

      expect(shown).to be_a(IOError)
      expect(shown).not_to equal(error)
      expect(shown.backtrace).to eq(error.backtrace)
      expect(shown.message).to eq("could not write /srv/app/.env: api_key=[redacted]")
      expect(shown.cause).to be_a(ArgumentError)
      expect(shown.cause.message).to eq("inner [redacted]")
      expect(shown.full_message).not_to include(key)
    end

    it "redacts an exception class that builds its message from its own state" do
      klass = Class.new(StandardError) do
        def initialize(sql)
          @sql = sql
          super("query failed")
        end

        def message
          "query failed: #{@sql}"
        end
      end
      error = klass.new("SELECT '#{key}'")

      shown = described_class.exception(error)

      expect(shown).to be_a(klass)
      expect(shown.message).to eq("query failed: SELECT '[redacted]'")
      expect(shown.to_s).not_to include(key)
    end

    it "names the class in the gem's Error when the class cannot be copied" do
      klass = Class.new(StandardError) { singleton_class.send(:undef_method, :allocate) }
      stub_const("UncopyableError", klass)
      error = raised(UncopyableError, "token=#{key}")

      shown = described_class.exception(error)

      expect(shown).to be_a(AssistantChatNative::Error)
      expect(shown.message).to eq("UncopyableError: token=[redacted]")
      expect(shown.backtrace).to eq(error.backtrace)
    end

    it "bounds the message" do
      shown = described_class.exception(RuntimeError.new("x" * 10_000), max_bytes: 300)
      expect(shown.message.bytesize).to eq(300)
    end

    it "hands back the exception itself when it holds nothing to hide" do
      error = raised(RuntimeError, "Couldn't find Upload with 'id'=12")
      expect(described_class.exception(error)).to equal(error)
    end
  end
end
