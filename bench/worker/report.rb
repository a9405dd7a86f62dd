# frozen_string_literal: true

module WorkerBench
  # The Markdown of bench/results/worker.md from a run's raw figures (and an
  # earlier run's, the baseline, beside them).
  class Report
    ROWS = [
      # key, label, digits, better
      [:jobs_per_minute, "jobs per minute", 1, :higher],
      [:cpu_ms_per_turn, "CPU per turn (ms)", 2, :lower],
      [:idle_cpu_ms_per_turn, "idle process's CPU over the same wall time, per turn (ms)", 2, nil],
      [:cpu_ms_per_turn_net, "CPU per turn, idle subtracted (ms)", 2, :lower],
      [:statements_per_turn, "SQL statements per turn (one turn alone)", 0, nil],
      [:delay_p50_ms, "sibling thread delay p50 (ms)", 3, :lower],
      [:delay_p99_ms, "sibling thread delay p99 (ms)", 2, :lower],
      [:delay_max_ms, "sibling thread delay max (ms)", 1, :lower],
      [:connections_per_100_turns, "connections opened per 100 turns", 1, nil],
      [:wall, "wall time (s)", 2, nil],
      [:failed, "failed turns", 0, nil],
      [:samples, "sibling samples", 0, nil],
      [:reply_bytes, "reply (bytes)", 0, nil],
      [:bytes_per_turn, "bytes broadcast per turn", 0, nil],
      [:chunks_per_turn, "reply flushes (chunks) per turn", 1, nil],
      [:cpu_us_per_flush, "CPU per flush (µs)", 1, :lower]
    ].freeze

    def initialize(raw, baseline: nil)
      @raw = raw
      @baseline = baseline
    end

    def markdown
      modes = @raw["modes"]
      parts = [header, summary, arithmetic, idle_cost, statements]
      modes.each { |mode| parts << section(mode) }
      short = modes.find { |mode| mode["key"] == "paced" }
      long = modes.find { |mode| mode["key"] == "long" }
      parts << linearity(short, long) if short && long
      parts << profile_section if @raw["profile"]
      parts << FLUSH_NOTE
      parts.join("\n")
    end

    # The per-flush counts are a run of their own (COUNT=1), kept in their own file.
    FLUSH_NOTE = <<~TEXT
      ## What a paced flush costs

      Counted per flush (SQL, Redis, calls into Ruby, objects, context switches, syscalls) and
      explained in [worker_flush.md](worker_flush.md), written by `COUNT=1 bundle exec rake bench:worker`.
    TEXT

    # The median of a figure over a variant's runs.
    def self.median(runs, key)
      values = runs.map { |run| run[key.to_s] || run[key.to_sym] }.compact.map(&:to_f).sort
      return 0.0 if values.empty?

      mid = values.size / 2
      values.size.odd? ? values[mid] : (values[mid - 1] + values[mid]) / 2
    end

    private

    def header
      first = @raw["modes"].first
      <<~TEXT
        # rake bench:worker

        A Sidekiq process running #{first["runs"]["native"].first["concurrency"]} chat turns at once (#{turns_of(first)} turns, one
        round of #{first["words"]} words each, from LocalProvider in its own process), through AssistantChatWorker
        with PostgreSQL locks and Action Cable broadcasts; the native Stream against RubyStream, each in a
        fresh process, #{first["runs"]["native"].size} times each (they take turns): figures are the median, with the range over
        the runs in brackets. Then a long reply, paced, against the paced short one.

        ![sibling delay CDF and CPU per turn](worker.svg)

        Measured #{@raw["measured_at"]} on #{@raw["machine"]}, #{@raw["ruby"]}.#{baseline_note}

        CPU per turn is the whole process's CPU over the run (Sidekiq, ActiveRecord and PostgreSQL's
        client, locks, streams, broadcasts, the sibling thread below) divided by the turns. It is the
        trustworthy figure here: this machine has 2 cores shared with other builds, so the latency figures
        (sibling delay, jobs per minute, wall time) move with whatever else runs, the tails (p99, max) by
        2x or more from run to run. Sibling delay: how much longer than 1 ms a Ruby thread's `sleep 0.001`
        took while the turns ran, the wait any other Ruby work in the process sees. Ratio: how many times
        better native is (above 1: native better). Broadcasts are counted as Action Cable sends them (each
        payload's JSON, encoded once by a counting delivery); a reply flush is one chunk broadcast.
      TEXT
    end

    def baseline_note
      return "" unless @baseline

      "\nBeside it, \"before\": the same benchmark on the worker as it was (#{@baseline["measured_at"]})."
    end

    def turns_of(mode)
      mode["runs"]["native"].first["turns"]
    end

    # The headline: CPU per turn and sibling p99, before and after, per mode.
    def summary
      rows = @raw["modes"].flat_map do |mode|
        before = baseline_mode(mode["key"])
        keys = (mode["key"] == "long") ? %w[cpu_ms_per_turn cpu_ms_per_turn_net cpu_us_per_flush] : %w[cpu_ms_per_turn cpu_ms_per_turn_net delay_p99_ms]
        keys.map do |key|
          label = {"cpu_ms_per_turn" => "CPU per turn, raw (ms)", "cpu_ms_per_turn_net" => "CPU per turn, idle subtracted (ms)",
                   "delay_p99_ms" => "sibling p99 (ms)", "cpu_us_per_flush" => "CPU per flush (µs)"}.fetch(key)
          now = cells(mode, key)
          was = before ? cells(before, key) : ["-", "-", "-"]
          "| #{mode_name(mode)} | #{label} | #{now.join(" | ")} | #{was.join(" | ")} |"
        end
      end
      [
        "## Summary",
        "",
        "| run | figure | native | RubyStream | ratio | native before | RubyStream before | ratio before |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
        *rows,
        ""
      ].join("\n")
    end

    # What is reachable: the turn's fixed Ruby cost against the stream's. Both variants
    # run the same worker, so RubyStream's extra CPU per turn (D) is its stream's cost
    # over the native one; the native stream's own (S, from perf: the C core, libcurl
    # and yajl; its socket reads in the kernel are not counted) is small. The rest of a
    # native turn, F = N - S, is Sidekiq, ActiveRecord, locks and broadcasts, paid by
    # both. The ratio is (F + S + D) / (F + S): 5x needs F + S <= D / 4.
    def arithmetic
      lines = @raw["modes"].reject { |mode| mode["key"] == "long" }.flat_map do |mode|
        p99 = self.class.median(mode["runs"]["native"], :delay_p99_ms)
        bar = mode["rate"].positive? ? 5.0 : 10.0
        [budget_line(mode, :cpu_ms_per_turn, "raw") +
          " Sibling p99 #{format("%.1f", p99)} ms against a bar of #{bar.round} ms: #{(p99 <= bar) ? "met" : "not met"}.",
          (budget_line(mode, :cpu_ms_per_turn_net, "idle subtracted") if measured?(mode, :cpu_ms_per_turn_net))].compact
      end
      ["## What is reachable", "", arithmetic_intro, "", *lines, "", *against_before, *where_the_rest_goes].join("\n")
    end

    # One mode's F against its 5x budget, from one figure of CPU per turn (raw, or with
    # the idle process's CPU subtracted: F and D both shrink by what runs by the clock).
    def budget_line(mode, key, label)
      native = self.class.median(mode["runs"]["native"], key)
      ruby = self.class.median(mode["runs"]["ruby"], key)
      extra = ruby - native
      stream = self.class.median(mode["runs"]["native"], :cpu_ms_per_turn) * stream_share(mode["key"])
      fixed = native - stream
      "- #{mode_name(mode)}, #{label}: native #{format("%.1f", native)} ms, RubyStream #{format("%.1f", ruby)} ms per turn, " \
        "#{format("%.1fx", ruby / native)}. RubyStream's stream costs D = #{format("%.1f", extra)} ms more; the native " \
        "stream's own work is S = #{format("%.2f", stream)} ms, so the rest of the turn is F = #{format("%.1f", fixed)} ms. " \
        "5x needs F <= D / 4 - S = #{format("%.1f", extra / 4 - stream)} ms, " \
        "#{(fixed <= extra / 4 - stream) ? "met" : "#{format("%.1f", fixed / [extra / 4 - stream, 0.01].max)}x the budget"}."
    end

    def measured?(mode, key)
      (mode["runs"]["native"] + mode["runs"]["ruby"]).all? { |run| run.key?(key.to_s) }
    end

    # What the process costs with no turn to run, for the same wall time: Sidekiq
    # waiting on Redis, the sibling thread's 1 ms sleeps, the main thread's polling.
    def idle_cost
      lines = @raw["modes"].filter_map do |mode|
        next unless measured?(mode, :idle_cpu_ms_per_turn)

        cells = %w[native ruby].map do |variant|
          runs = mode["runs"][variant]
          idle = self.class.median(runs, :idle_cpu_ms_per_turn)
          raw = self.class.median(runs, :cpu_ms_per_turn)
          wall = self.class.median(runs, :wall)
          "#{(variant == "native") ? "native" : "RubyStream"} #{format("%.2f", idle)} ms per turn " \
            "(#{format("%.0f%%", 100 * idle / raw)} of its raw #{format("%.2f", raw)} ms; " \
            "#{format("%.0f", idle * turns_of(mode) / wall)} ms of CPU per second of wall time)"
        end
        "- #{mode_name(mode)}: #{cells.join("; ")}."
      end
      return "" if lines.empty?

      <<~TEXT
        ## The idle cost

        Each process, once its turns are done, runs on for the same wall time with no turn: Sidekiq
        waiting on Redis, a fresh sibling thread sleeping 1 ms over and over, the main thread polling
        as it waited for the turns. Its CPU over that time, divided by the turns, is what a turn is
        charged for the clock rather than for its work; "idle subtracted" takes it off. Paced turns
        last longer, so they carry more of it, and it is about the same for both streams, so the
        ratio grows without it. The raw figure stays the headline: the sibling thread runs while
        turns do too (it samples less often then, so this overstates its share a little).

        #{lines.join("\n")}
      TEXT
    end

    # The SQL of one turn alone (full speed; paced adds the per-chunk UPDATEs and polls), now and before.
    def statements
      mode = @raw["modes"].find { |candidate| candidate["key"] == "full" } || @raw["modes"].first
      now = mode["runs"]["native"].first["statements"]
      return "" unless now

      before = baseline_mode(mode["key"])&.dig("runs", "native", 0, "statements")
      paced = @raw["modes"].find { |candidate| candidate["key"] == "paced" }
      paced_count = paced && paced["runs"]["native"].first["statements_per_turn"]
      paced_note = paced_count ? "; a paced turn issues #{paced_count}, its per-chunk shown-text UPDATEs and cancel polls added" : ""
      [
        "## The SQL of one turn",
        "",
        "One native turn run alone after the warm-up (#{mode_name(mode)}), each statement as `sql.active_record` " \
          "reports it on the job's thread, literals blanked#{paced_note}.",
        "",
        Statements.markdown(mode_name(mode), now, before)
      ].join("\n")
    end

    # Native CPU per turn against the baseline's, and whether the change stands out of
    # the runs' spread (their ranges do not overlap) or not.
    def against_before
      return [] unless @baseline

      lines = @raw["modes"].filter_map do |mode|
        before = baseline_mode(mode["key"])
        next unless before

        now = mode["runs"]["native"].map { |run| run["cpu_ms_per_turn"].to_f }
        was = before["runs"]["native"].map { |run| run["cpu_ms_per_turn"].to_f }
        a = self.class.median(mode["runs"]["native"], :cpu_ms_per_turn)
        b = self.class.median(before["runs"]["native"], :cpu_ms_per_turn)
        apart = now.max < was.min || now.min > was.max
        spread = if now.size < 2 && was.size < 2
          ", one run each"
        elsif apart
          ", outside the runs' spread"
        else
          ", within the runs' spread"
        end
        "- #{mode_name(mode)}: #{format("%.1f", b)} -> #{format("%.1f", a)} ms " \
          "(#{format("%+.0f%%", 100 * (a - b) / b)}#{spread})"
      end
      ["Native CPU per turn, before -> now:", "", *lines, ""]
    end

    # The profile's three biggest concerns per mode, in one sentence each.
    def where_the_rest_goes
      (@raw["profile"] || {}).map do |key, kinds|
        concerns = kinds.dig("cpu", "concerns") || {}
        total = concerns.values.sum.to_f
        next if total.zero?

        top = concerns.first(3).map { |name, count| "#{name} #{format("%.0f%%", 100 * count / total)}" }
        "Where a native turn's CPU goes (#{key}, stackprof, below): #{top.join(", ")}."
      end.compact.then { |list| list.empty? ? [] : [*list, ""] }
    end

    def arithmetic_intro
      "Both columns run the same worker, so what RubyStream costs beyond native Stream (D) is its stream; " \
        "the native stream's own CPU (S: the C core, libcurl and yajl, from perf; 0 without a profile) is small; " \
        "the rest of a native turn, F, is Sidekiq, ActiveRecord and PostgreSQL, locks and broadcasts, paid by both. " \
        "The ratio is (F + S + D) / (F + S), so 5x needs F + S <= D / 4:"
    end

    # The native stream's share of a native turn's CPU, from the perf profile.
    def stream_share(key)
      libraries = @raw.dig("profile", key, "perf", "libraries") || {}
      libraries.select { |name, _share| name.match?(/native stream|libcurl|yajl/) }.values.sum / 100.0
    end

    def cells(mode, key)
      return ["–", "–", ""] unless measured?(mode, key)

      native = self.class.median(mode["runs"]["native"], key)
      ruby = self.class.median(mode["runs"]["ruby"], key)
      [format("%.2f", native), format("%.2f", ruby), native.zero? ? "-" : format("%.2f", ruby / native)]
    end

    def mode_name(mode)
      pace = mode["rate"].positive? ? "paced at #{mode["rate"]} tokens/s" : "full speed"
      "#{mode["words"]} words, #{pace}"
    end

    def baseline_mode(key)
      @baseline && @baseline["modes"].find { |mode| mode["key"] == key }
    end

    def section(mode)
      before = baseline_mode(mode["key"])
      head = "| | native Stream | RubyStream | ratio |"
      rule = "|---|---:|---:|---:|"
      if before
        head += " native before | RubyStream before | ratio before |"
        rule += "---:|---:|---:|"
      end
      rows = ROWS.map do |key, label, digits, better|
        row = "| #{label} | #{figures(mode, key, digits, better).join(" | ")} |"
        row += " #{figures(before, key, digits, better).join(" | ")} |" if before
        row
      end
      ["## #{mode_name(mode)}, #{turns_of(mode)} turns", "", head, rule, *rows, ""].join("\n")
    end

    def figures(mode, key, digits, better)
      native_runs = mode["runs"]["native"]
      ruby_runs = mode["runs"]["ruby"]
      # A baseline from before a figure was recorded has none to show.
      return ["–", "–", ""] unless (native_runs + ruby_runs).any? { |run| run.key?(key.to_s) }

      native = self.class.median(native_runs, key)
      ruby = self.class.median(ruby_runs, key)
      ratio = if better.nil? || native.zero? || ruby.zero?
        ""
      else
        format("%.2f", (better == :lower) ? ruby / native : native / ruby)
      end
      [with_range(native_runs, key, native, digits), with_range(ruby_runs, key, ruby, digits), ratio]
    end

    def with_range(runs, key, median, digits)
      values = runs.map { |run| run[key.to_s].to_f }
      text = round(median, digits)
      return text if values.size < 2 || values.min == values.max

      "#{text} [#{round(values.min, digits)}–#{round(values.max, digits)}]"
    end

    def round(value, digits)
      digits.zero? ? value.round.to_s : format("%.#{digits}f", value)
    end

    # Long reply against short, both paced: each figure's ratio next to the ratio of
    # the replies' lengths. Linear: bytes and CPU per turn grow like the length (ratio
    # near it, less when the turn's fixed cost weighs), CPU per flush stays put or falls.
    # Quadratic growth would show a per-turn ratio near the length ratio's square.
    def linearity(short, long)
      rows = %w[native ruby].flat_map do |variant|
        a = short["runs"][variant]
        b = long["runs"][variant]
        length = self.class.median(b, :reply_bytes) / self.class.median(a, :reply_bytes)
        [[:bytes_per_turn, "bytes broadcast per turn", 0], [:cpu_ms_per_turn, "CPU per turn (ms)", 2],
          [:chunks_per_turn, "reply flushes per turn", 1], [:cpu_us_per_flush, "CPU per flush (µs)", 1]].map do |key, label, digits|
          x = self.class.median(a, key)
          y = self.class.median(b, key)
          "| #{variant} | #{label} | #{round(x, digits)} | #{round(y, digits)} | #{format("%.2f", y / x)} | #{format("%.2f", length)} |"
        end
      end
      [
        "## linear in the reply's length: #{long["words"]}-token reply against the #{short["words"]}-word one, paced",
        "",
        "| stream | figure | #{short["words"]} words | #{long["words"]} tokens | ratio | length ratio |",
        "|---|---|---:|---:|---:|---:|",
        *rows,
        ""
      ].join("\n")
    end

    def profile_section
      parts = [<<~TEXT]
        ## Where a native turn's time goes (stackprof)

        #{Profile::Summary.intro}
      TEXT
      @raw["profile"].each do |key, kinds|
        before = @baseline && @baseline["profile"] && @baseline["profile"][key]
        parts << Profile::Summary.new(key, kinds, before: before).markdown
      end
      parts.join("\n")
    end
  end
end
