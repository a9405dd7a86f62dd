# frozen_string_literal: true

module WorkerBench
  # A stackprof profile of native turns, grouped by concern. Each sample is
  # charged to the innermost frame on its stack that belongs to a concern we can
  # act on (ActiveRecord, Sidekiq, the stream, ...): a sample in ActiveSupport's
  # notifications under an ActiveRecord query counts as ActiveRecord, one in the
  # JSON encoder under a broadcast as rendering.
  module Profile
    # [concern, what a frame's file (or name) matches], innermost match wins, in
    # this order when one frame matches several.
    CONCERNS = [
      ["GC", /^\((garbage collection|marking|sweeping)\)$/],
      ["locks (advisory, column)", %r{with_advisory_lock|assistant_chat_native/processing_lock\.rb}],
      ["Sidekiq (fetch, job, status)", %r{/sidekiq-}],
      # Redis itself is left to its caller: Sidekiq's fetch or Action Cable's publish.
      ["Action Cable publish", %r{/actioncable-|/turbo-rails-}],
      ["rendering (payload, HTML, JSON)", %r{/actionview-|active_support/json|/erb/|assistant_chat_native/broadcaster}],
      ["ActiveRecord / PostgreSQL", %r{/activerecord-|/activemodel-|/pg-\d|/arel}],
      # Stream#run is C: its samples are the stream loop taking the GVL back.
      ["stream (native or RubyStream)",
        %r{assistant_chat_native/(stream|ruby_stream|native|sse)|/net/|/ld-eventsource|/openssl|^AssistantChatNative::Stream#}],
      ["our Ruby: worker and hooks", %r{assistant_chat_native/worker}],
      ["our Ruby: turn, requests, heartbeat", %r{lib/assistant_chat_native/}],
      ["bench harness (sibling thread, polling)", %r{bench/worker}]
    ].freeze
    OTHER = "other (ActiveSupport, Ruby's library, idle)"
    # Where our code (or the lock gem) asked for the work: a sample's call site.
    CALL_SITE = %r{lib/assistant_chat_native/|with_advisory_lock|bench/worker}

    module_function

    # In the child: runs the block under stackprof when mode is "cpu" or "wall" and
    # writes the grouped profile to path as JSON.
    def around(mode, path)
      return yield unless mode
      return perf(path) { yield } if mode == "perf"

      require "stackprof"
      interval = (mode == "cpu") ? 500 : 1000
      StackProf.start(mode: mode.to_sym, interval: interval, raw: true)
      begin
        yield
      ensure
        StackProf.stop
        File.write(path, JSON.generate(summarize(StackProf.results, interval: interval).merge(mode: mode)))
      end
    end

    # Shared objects perf finds the process's CPU in, grouped: it sees what stackprof
    # cannot, the work done without the GVL (the native stream, libcurl, the kernel).
    LIBRARIES = [
      ["Ruby VM (Ruby code, GC, the GVL)", /libruby/],
      ["native stream (C core and binding)", /assistant_chat_native/],
      ["libcurl, TLS, zlib", /libcurl|libssl|libcrypto|libnghttp|libz\b|libbrotli|libssh|librtmp|libidn|libpsl|libgnutls/],
      ["PostgreSQL client (libpq, pg)", /libpq|pg_ext/],
      ["JSON, escaping and other Ruby C extensions", /\.so\z/],
      ["libc (malloc, memcpy, locks)", /libc[.-]|libm[.-]|ld-linux|libpthread/],
      ["kernel (syscalls, scheduling, network)", /kernel|vdso/]
    ].freeze

    def perf(path)
      data = "#{path}.data"
      recorder = Process.spawn("perf", "record", "-q", "-F", "499", "-o", data, "-p", Process.pid.to_s,
        out: File::NULL, err: File::NULL)
      sleep 0.5 # perf attaches
      begin
        yield
      ensure
        Process.kill("INT", recorder)
        Process.wait(recorder)
        report = IO.popen(["perf", "report", "-i", data, "--sort", "dso", "--stdio"], err: File::NULL, &:read)
        File.write(path, JSON.generate(libraries: libraries(report)))
        File.delete(data) if File.exist?(data)
      end
    end

    # perf report's "  41.20%  libruby.so.3.1" lines => {group => percent}.
    def libraries(report)
      shares = Hash.new(0.0)
      report.each_line do |line|
        percent, dso = line.strip.split(/\s+/, 2)
        next unless percent&.end_with?("%") && dso

        group = LIBRARIES.find { |_name, pattern| pattern.match?(dso) }&.first || "other (#{dso})"
        shares[group] += percent.to_f
      end
      shares.sort_by { |_name, share| -share }.to_h
    end

    # Samples per concern and the 15 busiest frames (by samples on top of the stack).
    def summarize(data, interval:)
      frames = data[:frames]
      concern_of = Hash.new { |memo, id| memo[id] = classify(frames[id]) }
      site_of = Hash.new { |memo, id| memo[id] = call_site(frames[id]) }
      by_concern = Hash.new(0)
      sites = Hash.new { |memo, concern| memo[concern] = Hash.new(0) }
      raw = data[:raw] || []
      index = 0
      while (length = raw[index])
        stack = raw[index + 1, length]
        weight = raw[index + 1 + length]
        index += length + 2
        concern = stack.reverse_each.lazy.map { |id| concern_of[id] }.find { |name| name }
        by_concern[concern || OTHER] += weight
        site = stack.reverse_each.lazy.map { |id| site_of[id] }.find { |name| name }
        sites[concern || OTHER][site || "-"] += weight
      end
      top = frames.map { |_id, frame| [frame[:name], frame[:samples]] }.sort_by { |_name, count| -count }.first(15)
      {interval_us: interval, samples: data[:samples], gc_samples: data[:gc_samples],
       concerns: by_concern.sort_by { |_name, count| -count }.to_h, top: top,
       sites: sites.transform_values { |counts| counts.sort_by { |_name, count| -count }.first(3).to_h }}
    end

    def call_site(frame)
      (frame && CALL_SITE.match?(frame[:file].to_s)) ? frame[:name].to_s : nil
    end

    def classify(frame)
      return nil unless frame

      # A C method's frame carries its caller's file: its name decides too.
      text = "#{frame[:file]}\n#{frame[:name]}"
      CONCERNS.find { |_name, pattern| pattern.match?(text) }&.first
    end

    # The Markdown for one mode's profiles (cpu and wall), beside the baseline's.
    class Summary
      def self.intro
        <<~TEXT.strip
          Native turns only, #{PROFILE_TURNS} of them per profile, under the same load (25 at once), with stackprof in
          raw mode: CPU mode samples every 0.5 ms of the process's CPU time, wall mode every 1 ms of
          wall time. A sample is charged to the innermost frame on its stack that belongs to a concern
          (a query under a lock counts as ActiveRecord, JSON under a broadcast as rendering); "call sites"
          are the innermost frames of our code (or the lock gem) above it. Samples land on the thread
          holding the GVL, so the native stream's own parsing (without the GVL) shows only where it comes
          back into Ruby; wall samples while every thread waits count as "other". ms per turn: the
          concern's share of the CPU samples times the profiled run's CPU per turn.
        TEXT
      end

      def initialize(key, kinds, before: nil)
        @key = key
        @kinds = kinds
        @before = before
      end

      def markdown
        cpu = @kinds["cpu"]
        wall = @kinds["wall"]
        names = (cpu["concerns"].keys + wall["concerns"].keys + (@before ? @before["cpu"]["concerns"].keys : [])).uniq
        head = "| concern | CPU share | ms per turn | wall share |"
        rule = "|---|---:|---:|---:|"
        if @before
          head += " CPU share before | ms per turn before |"
          rule += "---:|---:|"
        end
        head += " call sites (CPU samples) |"
        rule += "---|"
        rows = names.map do |name|
          row = "| #{name} | #{share(cpu, name)} | #{ms(cpu, name)} | #{share(wall, name)} |"
          row += " #{share(@before["cpu"], name)} | #{ms(@before["cpu"], name)} |" if @before
          sites = (cpu["sites"][name] || {}).map { |site, count| "#{site.gsub("|", "\\|")} (#{count})" }.join(", ")
          row + " #{sites} |"
        end
        perf = @kinds["perf"]
        libraries = perf ? perf_table(perf) : []
        top = cpu["top"].map { |name, count| "#{name.gsub("|", "\\|")} (#{count})" }.join(", ")
        title = (@key == "paced") ? "paced replies" : "replies at full speed"
        [
          "### #{title}: #{format("%.2f", cpu["cpu_ms_per_turn"])} ms CPU per turn with the profiler on, " \
            "#{total(cpu)} CPU samples, #{total(wall)} wall samples",
          "",
          head, rule, *rows, "",
          "Busiest frames (CPU samples on top of the stack): #{top}.",
          "",
          *libraries
        ].join("\n")
      end

      def perf_table(perf)
        before = @before && @before["perf"]
        cpu_ms = perf["cpu_ms_per_turn"].to_f
        names = (perf["libraries"].keys + (before ? before["libraries"].keys : [])).uniq
        rows = names.map do |name|
          share = perf["libraries"][name].to_f
          row = "| #{name} | #{format("%.1f%%", share)} | #{format("%.2f", cpu_ms * share / 100)} |"
          if before
            was = before["libraries"][name].to_f
            row += " #{format("%.1f%%", was)} | #{format("%.2f", before["cpu_ms_per_turn"].to_f * was / 100)} |"
          end
          row
        end
        head = "| library (perf) | CPU share | ms per turn |"
        rule = "|---|---:|---:|"
        if before
          head += " CPU share before | ms per turn before |"
          rule += "---:|---:|"
        end
        ["The whole process's CPU by library (perf, #{format("%.2f", cpu_ms)} ms CPU per turn in that run), " \
          "the GVL-free work included:", "", head, rule, *rows, ""]
      end

      private

      def total(kind)
        kind["concerns"].values.sum
      end

      def share(kind, name)
        count = kind["concerns"][name].to_f
        total(kind).zero? ? "-" : format("%.1f%%", 100.0 * count / total(kind))
      end

      def ms(kind, name)
        count = kind["concerns"][name].to_f
        total(kind).zero? ? "-" : format("%.2f", kind["cpu_ms_per_turn"] * count / total(kind))
      end
    end
  end
end
