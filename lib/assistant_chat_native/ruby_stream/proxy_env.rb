# frozen_string_literal: true

require "ipaddr"
require "uri"

module AssistantChatNative
  class RubyStream
    # The proxy for one request URL, read from the environment by libcurl's rules so
    # RubyStream goes where Stream goes (Net::HTTP's own lookup differs: it uses
    # http_proxy for https URLs too and never proxies a loopback host):
    #
    #   https URLs  https_proxy, else HTTPS_PROXY
    #   http URLs   http_proxy (lower case only: HTTP_PROXY may come from a CGI header)
    #   either      then all_proxy, else ALL_PROXY
    #   no_proxy / NO_PROXY: comma-separated hosts that go direct. "*" matches every
    #               host; a name matches itself and its subdomains (a leading dot is
    #               ignored); an IP address matches itself, a CIDR range its members.
    #
    # A proxy value without a scheme is taken as http://. Net::HTTP speaks only to
    # http:// proxies: another scheme raises ConfigurationError.
    class ProxyEnv
      # The proxy URI for uri, or nil to go direct.
      def self.for(uri, env = ENV)
        new(env).for(uri)
      end

      def initialize(env)
        @env = env
      end

      def for(uri)
        value = proxy_value(uri.scheme)
        return nil if value.nil? || bypass?(uri.hostname.to_s)

        value = "http://#{value}" unless value.include?("://")
        proxy = URI.parse(value)
        unless proxy.scheme == "http" && proxy.hostname && !proxy.hostname.empty?
          raise ConfigurationError, "RubyStream can use only an http:// proxy (the environment names a " \
            "#{proxy.scheme}:// one); use Stream, or set an http:// proxy"
        end
        proxy
      rescue URI::InvalidURIError
        raise ConfigurationError, "the proxy named in the environment is not a valid URL"
      end

      private

      def proxy_value(scheme)
        names = (scheme == "https") ? %w[https_proxy HTTPS_PROXY] : %w[http_proxy]
        (names + %w[all_proxy ALL_PROXY]).each do |name|
          value = @env[name]
          return value unless value.nil? || value.strip.empty?
        end
        nil
      end

      def bypass?(host)
        list = @env["no_proxy"] || @env["NO_PROXY"]
        return false if list.nil?

        host = host.downcase.chomp(".")
        list.split(",").map { |entry| entry.strip.downcase }.reject(&:empty?).any? do |entry|
          entry == "*" || matches?(host, entry)
        end
      end

      def matches?(host, entry)
        address = ip(host)
        if address
          range = ip(entry.delete_prefix("[").delete_suffix("]"))
          return range ? range.include?(address) : false
        end
        name = entry.delete_prefix(".").chomp(".")
        host == name || host.end_with?(".#{name}")
      end

      def ip(text)
        IPAddr.new(text)
      rescue IPAddr::Error
        nil
      end
    end
  end
end
