# frozen_string_literal: true

module AssistantChatNative
  # Which certificate authorities a stream trusts, decided as Ruby's own HTTP clients
  # decide it: an explicit ca_file / ca_path (config.ca_file, config.ca_path, or the
  # stream's options) wins; else SSL_CERT_FILE / SSL_CERT_DIR from the environment,
  # read when the stream is built; else nil, the system's default. Stream hands the
  # answer to libcurl (CURLOPT_CAINFO / CURLOPT_CAPATH), RubyStream to Net::HTTP.
  # Verification itself is never turned off.
  module TLSTrust
    # {ca_file:, ca_path:}, each a path or nil. An explicit path that is not a
    # readable file (directory for ca_path) raises ConfigurationError.
    def self.resolve(ca_file: nil, ca_path: nil, env: ENV)
      {ca_file: pick(:ca_file, ca_file, env["SSL_CERT_FILE"]) { |path| File.file?(path) },
       ca_path: pick(:ca_path, ca_path, env["SSL_CERT_DIR"]) { |path| File.directory?(path) }}
    end

    def self.pick(name, explicit, from_env)
      if explicit.nil?
        (from_env.nil? || from_env.empty?) ? nil : from_env
      elsif yield(explicit.to_s) && File.readable?(explicit.to_s)
        explicit.to_s
      else
        kind = (name == :ca_file) ? "a readable PEM file" : "a readable directory of hashed certificates"
        raise ConfigurationError, "#{name} #{explicit.to_s.inspect} is not #{kind}; fix config.#{name} " \
          "(or the #{name}: option)"
      end
    end
    private_class_method :pick
  end
end
