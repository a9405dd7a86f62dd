# frozen_string_literal: true

# The chat app on this machine, for a person with a browser (`bin/demo --web` in the
# gem's checkout runs this):
#
#   ruby script/demo.rb           # until Ctrl-C
#   ruby script/demo.rb --check   # boots, fetches the sign-in and a chat page, prints OK, stops
#
# Starts PostgreSQL and Redis in a temp dir (the gem's TestServices), LocalModel on
# LocalProvider (unless ANTHROPIC_API_KEY is set without ANTHROPIC_BASE_URL: then the
# real provider answers), prepares and seeds the development database, then runs
# Sidekiq and Puma. Everything it starts it stops.

APP_ROOT = File.expand_path("..", __dir__)
GEM_ROOT = File.expand_path("../..", APP_ROOT)
ENV["BUNDLE_GEMFILE"] = File.join(APP_ROOT, "Gemfile")
require "bundler/setup"
require "net/http"
require "socket"
require "timeout"
require File.join(GEM_ROOT, "spec", "support", "services")
require_relative "../lib/local_model"

$stdout.sync = true
check = ARGV.include?("--check")
port = Integer(ENV.fetch("PORT") { check ? TestServices.free_port : 3000 })
url = "http://127.0.0.1:#{port}"
begin
  TCPSocket.new("127.0.0.1", port).close
  abort "demo: something already listens on 127.0.0.1:#{port}; set PORT= to another port"
rescue Errno::ECONNREFUSED
  nil
end
children = {}
provider = nil

stop = lambda do
  children.each_value do |pid|
    Process.kill("TERM", pid)
  rescue Errno::ESRCH
    nil
  end
  children.each_value do |pid|
    Timeout.timeout(15) { Process.wait(pid) }
  rescue Errno::ECHILD
    nil
  rescue Timeout::Error
    Process.kill("KILL", pid)
  end
  children.clear
  provider&.stop
  TestServices.stop
end

# One signed-in round trip over HTTP: the sign-in page, the sign-in, a chat page.
def check!(url)
  http = Net::HTTP.new("127.0.0.1", URI(url).port)
  page = http.get("/session/new")
  raise "GET /session/new: #{page.code}" unless page.code == "200" && page.body.include?("Sign in")

  token = page.body[/name="authenticity_token" value="([^"]+)"/, 1] or raise "no authenticity token on the sign-in page"
  cookie = page["set-cookie"].to_s.split(";").first
  form = URI.encode_www_form(authenticity_token: token, email: "ada@example.com", password: "password")
  signed_in = http.post("/session", form, "Cookie" => cookie, "Content-Type" => "application/x-www-form-urlencoded")
  raise "POST /session: #{signed_in.code}" unless signed_in.code == "302"

  cookie = signed_in["set-cookie"].to_s.split(";").first
  list = http.get("/conversations", "Cookie" => cookie)
  path = list.body[%r{href="(/conversations/\d+)"}, 1] or raise "no conversation on /conversations (#{list.code})"
  chat = http.get(path, "Cookie" => cookie)
  raise "GET #{path}: #{chat.code}" unless chat.code == "200" && chat.body.include?("turbo-cable-stream-source")

  puts "demo: OK (#{url}/session/new, signed in as ada@example.com, #{path})"
end

begin
  TestServices.start
  env = {"RAILS_ENV" => "development", "BUNDLE_GEMFILE" => ENV["BUNDLE_GEMFILE"],
         "DATABASE_URL" => TestServices.postgres_url.sub(%r{/acn_test\z}, "/chat_app_development"),
         "REDIS_URL" => TestServices.redis_url}
  if ENV["ANTHROPIC_API_KEY"].to_s.empty? || !ENV["ANTHROPIC_BASE_URL"].to_s.empty?
    provider = LocalModel.start
    env["ANTHROPIC_BASE_URL"] = provider.base_url_for(:anthropic)
    env["ANTHROPIC_API_KEY"] = "local-provider"
  end
  logs = File.join(TestServices.dir, "logs")
  Dir.mkdir(logs)
  system(env, "bin/rails", "db:prepare", "db:seed", chdir: APP_ROOT, out: File::NULL, exception: true)
  children[:sidekiq] = Process.spawn(env, "bundle", "exec", "sidekiq", "-c", "5",
    chdir: APP_ROOT, out: File.join(logs, "sidekiq.log"), err: [:child, :out])
  children[:puma] = Process.spawn(env, "bin/rails", "server", "-b", "127.0.0.1", "-p", port.to_s,
    "-P", File.join(logs, "puma.pid"), chdir: APP_ROOT, out: File.join(logs, "puma.log"), err: [:child, :out])
  TestServices.wait_for_port(port, "Puma", timeout: 60)

  if check
    check!(url)
  else
    puts <<~TEXT

      Chat app: #{url}
      Sign in as ada@example.com (or grace@example.com), password "password".
      #{provider ? "LocalProvider plays the model: try \"weather in Oslo\", \"how many\", \"long\" (then Stop), \"error\"." : "The real provider answers (ANTHROPIC_API_KEY)."}
      Logs: #{logs}
      Ctrl-C stops everything.
    TEXT
    trap("TERM") { Thread.main.raise(Interrupt) }
    begin
      sleep
    rescue Interrupt
      puts "\ndemo: stopping"
    end
  end
ensure
  stop.call
end
