# frozen_string_literal: true

require "spec_helper"
require "logger"
require "openssl"
require "socket"
require "tmpdir"

# Transport under an attacker's eye: a TLS server is trusted only through a CA the
# app names (ca_file / ca_path / SSL_CERT_FILE / SSL_CERT_DIR), proxies come from
# the standard environment variables, and an API key never crosses plain http:// to
# a host that is not loopback unless the app names it. Both Stream and RubyStream,
# through the public API, in a thread with Ruby's default stack.
# Cleared around each example (and restored after): what the transport reads from the environment.
TRANSPORT_ENV = %w[SSL_CERT_FILE SSL_CERT_DIR https_proxy HTTPS_PROXY http_proxy HTTP_PROXY
  all_proxy ALL_PROXY no_proxy NO_PROXY ANTHROPIC_API_KEY OPENAI_API_KEY].freeze

# A CA and a leaf certificate for 127.0.0.1 / localhost signed by it, made here:
# nothing on disk in the repository, no network.
module TestPKI
  def self.key
    OpenSSL::PKey::EC.generate("prime256v1")
  end

  def self.certificate(subject:, key:, issuer: nil, issuer_key: nil, ca: false, serial: 1)
    cert = OpenSSL::X509::Certificate.new
    cert.version = 2
    cert.serial = serial
    cert.subject = OpenSSL::X509::Name.parse(subject)
    cert.issuer = issuer ? issuer.subject : cert.subject
    cert.public_key = key
    cert.not_before = Time.now - 60
    cert.not_after = Time.now + 3600
    extensions = OpenSSL::X509::ExtensionFactory.new
    extensions.subject_certificate = cert
    extensions.issuer_certificate = issuer || cert
    if ca
      cert.add_extension(extensions.create_extension("basicConstraints", "CA:TRUE", true))
      cert.add_extension(extensions.create_extension("keyUsage", "keyCertSign,cRLSign", true))
    else
      cert.add_extension(extensions.create_extension("basicConstraints", "CA:FALSE", true))
      cert.add_extension(extensions.create_extension("subjectAltName", "IP:127.0.0.1,DNS:localhost"))
      cert.add_extension(extensions.create_extension("extendedKeyUsage", "serverAuth"))
    end
    cert.add_extension(extensions.create_extension("subjectKeyIdentifier", "hash"))
    cert.sign(issuer_key || key, OpenSSL::Digest.new("SHA256"))
    cert
  end

  # {ca:, cert:, key:} for a fresh CA named `name`.
  def self.issue(name)
    ca_key = key
    ca = certificate(subject: "/CN=#{name} test CA", key: ca_key, ca: true)
    leaf_key = key
    leaf = certificate(subject: "/CN=127.0.0.1", key: leaf_key, issuer: ca, issuer_key: ca_key, serial: 2)
    {ca: ca, cert: leaf, key: leaf_key}
  end
end

STREAM_CLASSES = [AssistantChatNative::RubyStream,
  (AssistantChatNative::Stream if AssistantChatNative.native?)].compact.freeze

RSpec.describe "Transport: TLS trust, proxies and keys in transit" do
  before(:all) do
    @pki = TestPKI.issue("assistant_chat_native")
    @other = TestPKI.issue("unrelated")
    @dir = Dir.mktmpdir("acn-tls")
    @ca_file = File.join(@dir, "ca.pem")
    File.write(@ca_file, @pki[:ca].to_pem)
    @other_ca_file = File.join(@dir, "other-ca.pem")
    File.write(@other_ca_file, @other[:ca].to_pem)
    # A c_rehash-style directory: <subject hash>.0
    @ca_path = File.join(@dir, "hashed")
    Dir.mkdir(@ca_path)
    File.write(File.join(@ca_path, format("%08x.0", @pki[:ca].subject.hash)), @pki[:ca].to_pem)
    @tls_provider = AssistantChatNative::LocalProvider.start(log: nil, tls: {cert: @pki[:cert], key: @pki[:key]})
  end

  after(:all) do
    @tls_provider&.stop
    FileUtils.remove_entry(@dir) if @dir
  end

  around do |example|
    saved = TRANSPORT_ENV.to_h { |name| [name, ENV[name]] }
    TRANSPORT_ENV.each { |name| ENV.delete(name) }
    example.run
  ensure
    saved.each { |name, value| value.nil? ? ENV.delete(name) : ENV[name] = value }
  end

  before { @tls_provider.reset }

  let(:secret) { "sk-ant-api03-transport-secret-never-in-clear" }
  let(:body) do
    JSON.generate(model: "claude-sonnet-5-5", max_tokens: 64, stream: true, messages: [{role: "user", content: "Hi"}])
  end

  def run_stream(klass, url, **options)
    HostileInput.in_worker_thread do
      stream = klass.new(provider: :anthropic, url: url, body: body, connect_timeout: 5, stall_timeout: 5,
        headers: {"x-api-key" => secret, "anthropic-version" => "2023-06-01"}, **options)
      stream.run(StreamHandlers::Recording.new)
    end
  end

  def tls_url
    @tls_provider.endpoint_for(:anthropic)
  end

  STREAM_CLASSES.each do |klass|
    context "with #{klass.name.split("::").last}" do
      describe "TLS trust" do
        it "fails as connection_failed when the server's CA is not trusted, sending nothing" do
          result = run_stream(klass, tls_url)

          expect(result.failure&.kind).to eq(:connection_failed)
          expect(result.text).to eq("")
          expect(@tls_provider.requests).to be_empty
        end

        it "trusts the CA given as ca_file" do
          @tls_provider.enqueue(text: "Hello over TLS")

          result = run_stream(klass, tls_url, ca_file: @ca_file)

          expect(result.failure).to be_nil
          expect(result.text).to eq("Hello over TLS")
          expect(@tls_provider.requests.last.headers["x-api-key"]).to eq(secret)
        end

        it "trusts the CA found in a hashed ca_path directory" do
          @tls_provider.enqueue(text: "Hello from the directory")

          result = run_stream(klass, tls_url, ca_path: @ca_path)

          expect(result.failure).to be_nil
          expect(result.text).to eq("Hello from the directory")
        end

        it "trusts the CA named by SSL_CERT_FILE" do
          ENV["SSL_CERT_FILE"] = @ca_file
          @tls_provider.enqueue(text: "Hello from the environment")

          result = run_stream(klass, tls_url)

          expect(result.failure).to be_nil
          expect(result.text).to eq("Hello from the environment")
        end

        it "trusts the CA found in SSL_CERT_DIR" do
          ENV["SSL_CERT_DIR"] = @ca_path
          @tls_provider.enqueue(text: "Hello from the environment's directory")

          result = run_stream(klass, tls_url)

          expect(result.failure).to be_nil
          expect(result.text).to eq("Hello from the environment's directory")
        end

        it "lets an explicit ca_file win over SSL_CERT_FILE" do
          ENV["SSL_CERT_FILE"] = @ca_file
          result = run_stream(klass, tls_url, ca_file: @other_ca_file)
          expect(result.failure&.kind).to eq(:connection_failed)

          ENV["SSL_CERT_FILE"] = @other_ca_file
          @tls_provider.enqueue(text: "explicit wins")
          result = run_stream(klass, tls_url, ca_file: @ca_file)
          expect(result.text).to eq("explicit wins")
        end

        it "trusts config.ca_file and config.ca_path in the streams a Turn builds" do
          config = AssistantChatNative::Configuration.new
          config.stream_class = klass
          config.max_attempts = 1
          config.logger = Logger.new(nil)
          config.models.register("tls-model", provider: :anthropic, model_id: "claude-sonnet-5-5",
            base_url: @tls_provider.base_url_for(:anthropic), api_key: secret)
          turn = lambda do
            AssistantChatNative::Turn.new(model: "tls-model", messages: [{role: "user", content: "Hi"}],
              handler: RecordingTurnHandler.new, config: config)
          end

          expect(HostileInput.in_worker_thread { turn.call.run }.failure&.kind).to eq(:connection_failed)

          config.ca_file = @ca_file
          @tls_provider.enqueue(text: "Trusted by configuration")
          expect(HostileInput.in_worker_thread { turn.call.run }.text).to eq("Trusted by configuration")

          config.ca_file = nil
          config.ca_path = @ca_path
          @tls_provider.enqueue(text: "Trusted by directory")
          expect(HostileInput.in_worker_thread { turn.call.run }.text).to eq("Trusted by directory")
        end

        it "refuses a ca_file that does not exist with a ConfigurationError naming the setting" do
          expect { run_stream(klass, tls_url, ca_file: File.join(@dir, "missing.pem")) }
            .to raise_error(AssistantChatNative::ConfigurationError, /ca_file .*missing\.pem.*config\.ca_file/)
        end
      end

      describe "proxies from the environment" do
        let(:proxy) { ConnectProxy.new.start }

        after { proxy.stop }

        it "tunnels an https stream through https_proxy with one CONNECT to the server's host and port" do
          ENV["https_proxy"] = proxy.url
          @tls_provider.enqueue(text: "Through the proxy")

          result = run_stream(klass, tls_url, ca_file: @ca_file)

          expect(result.failure).to be_nil
          expect(result.text).to eq("Through the proxy")
          expect(proxy.requests).to eq([["CONNECT", "127.0.0.1:#{@tls_provider.port}"]])
        end

        it "honours HTTPS_PROXY in upper case too" do
          ENV["HTTPS_PROXY"] = proxy.url
          @tls_provider.enqueue(text: "Upper case")

          result = run_stream(klass, tls_url, ca_file: @ca_file)

          expect(result.text).to eq("Upper case")
          expect(proxy.requests).to eq([["CONNECT", "127.0.0.1:#{@tls_provider.port}"]])
        end

        it "goes direct to a host listed in no_proxy" do
          ENV["https_proxy"] = proxy.url
          ENV["no_proxy"] = "example.com,127.0.0.1"
          @tls_provider.enqueue(text: "Direct")

          result = run_stream(klass, tls_url, ca_file: @ca_file)

          expect(result.text).to eq("Direct")
          expect(proxy.requests).to be_empty
        end

        it "sends a plain http stream through http_proxy" do
          ENV["http_proxy"] = proxy.url
          local_provider.enqueue(text: "Forwarded")

          result = run_stream(klass, local_provider.endpoint_for(:anthropic))

          expect(result.text).to eq("Forwarded")
          expect(proxy.requests).to eq([["POST", local_provider.endpoint_for(:anthropic)]])
        end
      end
    end
  end

  describe "an API key over plain http://" do
    let(:config) do
      AssistantChatNative::Configuration.new.tap do |config|
        config.logger = Logger.new(nil)
        config.max_attempts = 1
        config.stall_timeout = 5
      end
    end
    # A local address that is not loopback, when the machine has one.
    let(:lan_address) do
      Socket.ip_address_list.find { |address| address.ipv4? && !address.ipv4_loopback? }&.ip_address
    end

    def turn_to(base_url)
      config.models.register("gateway-model", provider: :anthropic, model_id: "claude-sonnet-5-5",
        base_url: base_url, api_key: secret)
      AssistantChatNative::Turn.new(model: "gateway-model", messages: [{role: "user", content: "Hi"}],
        handler: RecordingTurnHandler.new, config: config)
    end

    it "is refused before any byte is sent to a host that is not loopback, naming the host and the setting" do
      skip "this machine has no non-loopback IPv4 address" unless lan_address
      listener = TCPServer.new(lan_address, 0)
      base_url = "http://#{lan_address}:#{listener.addr[1]}"

      expect { HostileInput.in_worker_thread { turn_to(base_url).run } }.to raise_error(
        AssistantChatNative::ConfigurationError,
        /#{Regexp.escape(lan_address)}.*config\.allow_plain_http_hosts/
      ) { |error| expect(error.message).not_to include(secret) }
      expect(listener.accept_nonblock(exception: false)).to eq(:wait_readable)
    ensure
      listener&.close
    end

    it "is refused for a named gateway until config.allow_plain_http_hosts names it" do
      entry = AssistantChatNative::ModelRegistry::Entry.new(key: "gw", provider: :openai, model_id: "gpt-6.1-sol",
        base_url: "http://gateway.internal:8080/v1", api_key: secret)

      expect { HostileInput.in_worker_thread { entry.headers } }
        .to raise_error(AssistantChatNative::ConfigurationError, /"gateway\.internal"/)
      headers = HostileInput.in_worker_thread { entry.headers(allow_plain_http_hosts: ["Gateway.Internal"]) }
      expect(headers["authorization"]).to eq("Bearer #{secret}")
    end

    it "goes to a host named in config.allow_plain_http_hosts" do
      skip "this machine has no non-loopback IPv4 address" unless lan_address
      AssistantChatNative::LocalProvider.start(host: lan_address, log: nil).then do |gateway|
        gateway.enqueue(text: "Hello from the gateway")
        config.allow_plain_http_hosts = [lan_address]

        outcome = HostileInput.in_worker_thread { turn_to(gateway.url).run }

        expect(outcome.text).to eq("Hello from the gateway")
        expect(gateway.requests.last.headers["x-api-key"]).to eq(secret)
      ensure
        gateway.stop
      end
    end

    def headers_for(base_url, api_key: secret)
      entry = AssistantChatNative::ModelRegistry::Entry.new(key: "m", provider: :anthropic, model_id: "x",
        base_url: base_url, api_key: api_key)
      HostileInput.in_worker_thread { entry.headers }
    end

    it "goes to loopback (127.0.0.0/8, ::1, localhost) and to any https host" do
      ["http://127.0.0.1:9", "http://127.8.9.10", "http://[::1]:9", "http://[::ffff:127.0.0.1]:9",
        "http://localhost:9", "http://LOCALHOST.", "https://gateway.example.com"].each do |base_url|
        expect(headers_for(base_url)["x-api-key"]).to eq(secret), base_url
      end
    end

    it "is refused to names and addresses that only look like loopback" do
      ["http://localhost.evil.example", "http://127.0.0.1.evil.example", "http://evil.localhost",
        "http://0.0.0.0:9", "http://[::2]:9", "http://10.0.0.1"].each do |base_url|
        expect { headers_for(base_url) }.to raise_error(AssistantChatNative::ConfigurationError,
          /refusing to send its API key over plain http/), base_url
      end
    end

    it "is not checked when there is no key to protect" do
      expect(headers_for("http://gateway.example.com", api_key: nil)).not_to include("x-api-key")
    end
  end
end
