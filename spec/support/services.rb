# frozen_string_literal: true

require "fileutils"
require "socket"
require "tmpdir"
require "etc"

# Starts and stops a real Redis and a real PostgreSQL for the integration specs,
# each in a temp dir on a loopback port of its own. PostgreSQL refuses to run as
# root, so under root its server runs as an unprivileged user (`acn`, which
# bin/setup creates, else `nobody`).
#
#   TestServices.redis_url        # "redis://127.0.0.1:PORT/0"
#   TestServices.postgres_url     # "postgresql://postgres@127.0.0.1:PORT/acn_test"
module TestServices
  PG_BIN = ["/usr/lib/postgresql/15/bin", *Dir["/usr/lib/postgresql/*/bin"].sort.reverse].find { |dir| File.executable?(File.join(dir, "initdb")) }

  class << self
    attr_reader :redis_url, :postgres_url, :dir

    def start
      return if @started

      @dir = Dir.mktmpdir("acn-services-")
      File.chmod(0o755, @dir)
      start_redis
      start_postgres
      @started = true
      at_exit { stop }
    end

    def stop
      return unless @started

      @started = false
      stop_postgres
      stop_redis
      FileUtils.rm_rf(@dir) if @dir
    end

    def free_port
      server = TCPServer.new("127.0.0.1", 0)
      server.addr[1]
    ensure
      server&.close
    end

    # Waits until something accepts connections on port (a bounded wait).
    def wait_for_port(port, name, timeout: 20)
      deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
      loop do
        TCPSocket.new("127.0.0.1", port).close
        return
      rescue Errno::ECONNREFUSED, Errno::ECONNRESET
        raise "#{name} did not listen on 127.0.0.1:#{port} within #{timeout}s (see #{@dir})" if Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

        sleep 0.05
      end
    end

    private

    def start_redis
      port = free_port
      redis_dir = File.join(@dir, "redis")
      FileUtils.mkdir_p(redis_dir)
      @redis_pid = Process.spawn("redis-server", "--bind", "127.0.0.1", "--port", port.to_s, "--save", "",
        "--appendonly", "no", "--dir", redis_dir, "--logfile", File.join(redis_dir, "redis.log"),
        out: File::NULL, err: File::NULL)
      wait_for_port(port, "redis-server")
      @redis_url = "redis://127.0.0.1:#{port}/0"
    end

    def stop_redis
      return unless @redis_pid

      Process.kill("TERM", @redis_pid)
      Process.wait(@redis_pid)
    rescue Errno::ESRCH, Errno::ECHILD
      nil
    ensure
      @redis_pid = nil
    end

    def start_postgres
      raise "PostgreSQL's initdb not found under /usr/lib/postgresql; run bin/setup" unless PG_BIN

      data = File.join(@dir, "pg")
      FileUtils.mkdir_p(data)
      FileUtils.chown_R(pg_user, nil, data) if Process.uid.zero?
      run_as_pg(File.join(PG_BIN, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
        "--encoding=UTF8", "--no-sync")
      port = free_port
      run_as_pg(File.join(PG_BIN, "pg_ctl"), "-D", data, "-l", File.join(data, "server.log"), "-w",
        "-o", "-p #{port} -k #{data} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off", "start")
      @pg_data = data
      wait_for_port(port, "PostgreSQL")
      run_as_pg(File.join(PG_BIN, "psql"), "-h", "127.0.0.1", "-p", port.to_s, "-U", "postgres", "-q",
        "-c", "CREATE DATABASE acn_test")
      @postgres_url = "postgresql://postgres@127.0.0.1:#{port}/acn_test"
    end

    def stop_postgres
      return unless @pg_data

      run_as_pg(File.join(PG_BIN, "pg_ctl"), "-D", @pg_data, "-m", "immediate", "-w", "stop")
    rescue => e
      warn "PostgreSQL stop: #{e.message}"
    ensure
      @pg_data = nil
    end

    def pg_user
      @pg_user ||= begin
        Etc.getpwnam("acn")
        "acn"
      rescue ArgumentError
        "nobody"
      end
    end

    def run_as_pg(*command)
      command = ["runuser", "-u", pg_user, "--", *command] if Process.uid.zero?
      log = File.join(@dir, "pg-commands.log")
      ok = system(*command, out: [log, "a"], err: [log, "a"], chdir: @dir)
      raise "#{command.join(" ")} failed; see #{log}:\n#{File.read(log).lines.last(10).join}" unless ok
    end
  end
end
