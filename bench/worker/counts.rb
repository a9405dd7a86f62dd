# frozen_string_literal: true

module WorkerBench
  # COUNT=1 in the child: what the turns did, counted while they ran, to split a
  # paced turn's CPU by what it does per flush. SQL statements by name
  # (sql.active_record), Redis commands by name (a redis-client middleware: Sidekiq's
  # and Action Cable's), calls into Ruby from the stream by handler callback (each is
  # one GVL acquisition by the native stream), objects allocated (GC.stat), and
  # broadcasts by type. Counting costs CPU itself: compare the counts, and take the
  # CPU from a run without COUNT=1.
  module Counts
    # The Stream's calls into Ruby, one GVL acquisition each (the native stream
    # re-enters Ruby only through its handler).
    CALLBACKS = %i[on_text on_thinking on_checkpoint on_heartbeat cancelled? on_round on_status on_stream_end].freeze

    module_function

    def install
      @lock = Mutex.new
      @counts = Hash.new(0)
      ActiveSupport::Notifications.subscribe("sql.active_record") do |*, payload|
        add("sql: #{payload[:name] || "SQL"}") unless payload[:name] == "SCHEMA"
      end
      RedisClient.register(RedisCounter) if defined?(RedisClient)
      handler = AssistantChatNative::Worker::TurnHandler
      handler.prepend(Module.new do
        CALLBACKS.each do |name|
          define_method(name) do |*args, **options, &block|
            Counts.add("call into Ruby: #{name}")
            super(*args, **options, &block)
          end
        end
      end)
    end

    # Counts once installed (the warm-up turn before it is not counted).
    def add(key, by = 1)
      return unless @lock

      @lock.synchronize { @counts[key] += by }
    end

    def reset
      @lock.synchronize { @counts.clear }
      @allocated = GC.stat(:total_allocated_objects)
      @switches = context_switches
    end

    def snapshot
      counts = @lock.synchronize { @counts.dup }
      counts["objects allocated"] = GC.stat(:total_allocated_objects) - @allocated
      context_switches.each { |key, value| counts["context switches, #{key}"] = value - @switches.fetch(key, 0) }
      counts
    end

    # The kernel's context switches over the process's threads (Linux): a thread
    # that waits for the GVL, a socket or a condition variable gives up its CPU
    # (voluntary); one the scheduler takes the CPU from, involuntary.
    def context_switches
      Dir.glob("/proc/self/task/*/status").each_with_object(Hash.new(0)) do |path, totals|
        File.foreach(path) do |line|
          totals["voluntary"] += line.split.last.to_i if line.start_with?("voluntary_ctxt_switches")
          totals["involuntary"] += line.split.last.to_i if line.start_with?("nonvoluntary_ctxt_switches")
        end
      rescue Errno::ENOENT, Errno::ESRCH
        next
      end
    end

    FLUSHES = 500

    # A flush's two pieces of Ruby work on their own, one thread, nothing else
    # running: CPU µs per call of the shown-text UPDATE (on a connection borrowed
    # as a turn borrows it) and of a chunk broadcast (rendered and delivered as in
    # the turns). Run after the warm-up, on the warm-up's row.
    def flush_pieces(row, delivery)
      row.update_columns(status: AssistantChatNative::Worker::CheckpointHooks::STREAMING)
      statement = AssistantChatNative::Worker::ShownTextStatement.new(row: row, content: "content", status: "status")
      text = row.content.to_s
      pool = row.class.connection_pool
      update = cpu_per_call { |i| pool.with_connection { |connection| statement.call(connection, text + i.to_s) } }
      broadcaster = AssistantChatNative::Broadcaster.new(stream: row, delivery: delivery)
      chunk = cpu_per_call { |i| broadcaster.chunk("word#{i} ") }
      row.update_columns(status: "completed", content: text)
      {"shown-text UPDATE" => update, "chunk broadcast" => chunk}
    end

    def cpu_per_call
      before = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
      FLUSHES.times { |i| yield i }
      (Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) - before) / FLUSHES * 1_000_000
    end

    # The process's CPU while no turn runs (Sidekiq idle), per second of wall time:
    # alone, and with a thread looping on sleep 0.001 as the sibling thread does.
    # Paced turns last longer, so whatever runs by the clock is charged to them.
    IDLE_SECONDS = 2.0

    def idle_cpu_per_second
      alone = cpu_over(IDLE_SECONDS)
      stop = false
      sleeper = Thread.new { sleep 0.001 until stop }
      with_sleeper = cpu_over(IDLE_SECONDS)
      stop = true
      sleeper.join
      {"alone" => alone,
       "with the sleeper" => with_sleeper}
    end

    def cpu_over(seconds)
      before = Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID)
      sleep seconds
      (Process.clock_gettime(Process::CLOCK_PROCESS_CPUTIME_ID) - before) / seconds * 1000
    end

    # strace -c's table => {"syscall" => calls}, over the whole child (boot and
    # warm-up included: compare paced against full speed, not the absolute figures).
    def strace_totals(path)
      File.readlines(path).filter_map do |line|
        fields = line.split
        next unless fields.size >= 5 && fields[0] =~ /\A\d/ && fields.last =~ /\A[a-z_0-9]+\z/

        [fields.last, Integer(fields[3])]
      end.to_h
    end

    # Markdown: per turn, paced against full speed, and per extra paced flush.
    def table(rows)
      paced, full = rows.values_at("paced", "full")
      extra = paced["chunks"] - full["chunks"]
      cpu = ->(row) { row["cpu"].sort[row["cpu"].size / 2] }
      range = ->(row) { "#{format("%.1f", row["cpu"].min)}–#{format("%.1f", row["cpu"].max)}" }
      lines = ["| per turn | paced | full speed | per extra paced flush |", "|---|---:|---:|---:|"]
      lines << "| reply flushes (chunks) | #{format("%.1f", paced["chunks"])} | #{format("%.1f", full["chunks"])} | |"
      lines << "| CPU (ms, median [range]) | #{format("%.2f", cpu[paced])} [#{range[paced]}] | " \
        "#{format("%.2f", cpu[full])} [#{range[full]}] | #{format("%.3f", (cpu[paced] - cpu[full]) / extra)} |"
      (paced["counts"].keys | full["counts"].keys).sort.each do |key|
        a = paced["counts"].fetch(key, 0.0)
        b = full["counts"].fetch(key, 0.0)
        lines << "| #{key} | #{format("%.1f", a)} | #{format("%.1f", b)} | #{format("%.2f", (a - b) / extra)} |"
      end
      if paced["syscalls"] && full["syscalls"]
        lines << ""
        lines << "| syscalls over the counted run (strace -c -f, per turn) | paced | full speed | per extra paced flush |"
        lines << "|---|---:|---:|---:|"
        (paced["syscalls"].keys | full["syscalls"].keys)
          .sort_by { |key| -(paced["syscalls"].fetch(key, 0) - full["syscalls"].fetch(key, 0)) }.first(12).each do |key|
          a = paced["syscalls"].fetch(key, 0).to_f / TURNS
          b = full["syscalls"].fetch(key, 0).to_f / TURNS
          lines << "| #{key} | #{format("%.1f", a)} | #{format("%.1f", b)} | #{format("%.2f", (a - b) / extra)} |"
        end
      end
      lines << ""
      lines.concat(side_by_side("idle process, CPU ms per s of wall time", paced["idle"], full["idle"], "%.2f"))
      lines << "| wall time of the counted run (s) | #{format("%.2f", paced["wall"])} | #{format("%.2f", full["wall"])} |"
      lines << ""
      lines.concat(side_by_side("one flush's pieces alone, CPU µs per call", paced["pieces"], full["pieces"], "%.0f"))
      lines.join("\n")
    end

    # A table of one figure per key, the paced run's beside the full-speed run's.
    def side_by_side(title, paced, full, digits)
      ["| #{title} | paced run | full-speed run |", "|---|---:|---:|",
        *paced.each_key.map { |key| "| #{key} | #{format(digits, paced[key])} | #{format(digits, full[key])} |" }]
    end

    # Counts each command a redis-client connection sends (pipelines command by command).
    module RedisCounter
      def call(command, config)
        Counts.add("redis: #{command.first.to_s.downcase}")
        super
      end

      def call_pipelined(commands, config)
        commands.each { |command| Counts.add("redis: #{command.first.to_s.downcase}") }
        super
      end
    end
  end
end
