# frozen_string_literal: true

require "etc"
require "open3"
require "time"

# `rake fuzz:campaign`: every fuzz target (spec/c/fuzz_*.c, helpers in c.rake) for
# a fixed number of executions rather than `rake fuzz`'s few seconds, from a fresh
# copy of its seeds, with the same sanitizers and limits. Writes, per target, the
# executions done, the time, the corpus before and after, and whether it ran clean
# to bench/results/fuzz.md, with the date and the machine; fails when any target
# found a crash, a leak, a timeout or an out-of-memory input (kept under
# tmp/c/campaign/).
#
#   bundle exec rake fuzz:campaign                      # 10,000,000 executions per target
#   FUZZ_EXECS=200000 ONLY=json_walk bundle exec rake fuzz:campaign
#   FUZZ_JOBS=2 bundle exec rake fuzz:campaign          # two targets at a time
#   FUZZ_MAX_SECONDS=1800 bundle exec rake fuzz:campaign # each stops at 30 min if not done

FUZZ_CAMPAIGN_DIR = File.join(C_BUILD_DIR, "campaign")
FUZZ_RESULTS = File.expand_path("../bench/results/fuzz.md", __dir__)

module FuzzCampaign
  extend Rake::DSL # sh, mkdir_p and friends, as c.rake's helpers use them

  module_function

  def corpus_size(dir)
    files = Dir[File.join(dir, "*")].select { |path| File.file?(path) }
    [files.size, files.sum { |path| File.size(path) }]
  end

  # libFuzzer's final stats and its one-line verdict, from its output.
  def stat(output, name)
    output[/^stat::#{name}:\s+(\d+)/, 1]&.to_i
  end

  def verdict(output, status)
    return "clean" if status.success?
    summary = output[/^SUMMARY: .*$/] || output[/==\d+== ?ERROR: .*$/] || "exit #{status.exitstatus}"
    summary = summary.gsub(/\s*\(BuildId: \h+\)/, "")
    artifact = output[/Test unit written to (\S+)/, 1]
    artifact ? "#{summary} (#{artifact})" : summary
  end

  def run(target, execs, max_seconds)
    name = File.basename(target, ".c")
    binary, corpus = prepare_fuzzer(target, File.join(FUZZ_CAMPAIGN_DIR, "corpus"))
    seeds = corpus_size(corpus)
    log = File.join(FUZZ_CAMPAIGN_DIR, "#{name}.log")
    command = [binary, "-runs=#{execs}", *("-max_total_time=#{max_seconds}" if max_seconds), *FUZZ_FLAGS.split, "-artifact_prefix=#{FUZZ_CAMPAIGN_DIR}/#{name}-",
      "-print_final_stats=1", corpus]
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    output, status = Open3.capture2e(sanitizer_env, *command)
    seconds = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    File.write(log, output)
    {name: name, execs: stat(output, "number_of_executed_units") || 0, seconds: seconds,
     seeds: seeds, corpus: corpus_size(corpus), peak_rss_mb: stat(output, "peak_rss_mb"),
     clean: status.success?, verdict: verdict(output, status), log: log}
  end

  def machine
    cpu = File.read("/proc/cpuinfo")[/^model name\s*:\s*(.+)$/, 1] if File.exist?("/proc/cpuinfo")
    "#{`uname -m`.strip}, #{cpu || "unknown CPU"}, #{Etc.nprocessors} cores, #{`uname -sr`.strip}"
  end

  def compiler
    `#{c_compiler} --version 2>/dev/null`.lines.first.to_s.strip
  end

  def table(rows)
    lines = ["| target | execs | time | execs/s | corpus files (KiB): seeds → after | peak RSS MB | result |",
      "|---|---|---|---|---|---|---|"]
    rows.each do |row|
      lines << format("| %s | %s | %s | %s | %d (%d) → %d (%d) | %s | %s |", row[:name],
        row[:execs].to_s.reverse.scan(/\d{1,3}/).join(",").reverse, duration(row[:seconds]),
        (row[:seconds] > 0) ? (row[:execs] / row[:seconds]).round.to_s : "–",
        row[:seeds][0], row[:seeds][1] / 1024, row[:corpus][0], row[:corpus][1] / 1024,
        row[:peak_rss_mb] || "–", row[:verdict].gsub("|", "\\|"))
    end
    lines.join("\n")
  end

  def duration(seconds)
    return format("%.1f s", seconds) if seconds < 120
    format("%dm%02ds", seconds / 60, seconds % 60)
  end

  def report(rows, execs, jobs, max_seconds)
    commit = `git rev-parse --short HEAD 2>/dev/null`.strip
    cap = max_seconds && " or #{duration(max_seconds)} (`-max_total_time`), whichever came first,"
    <<~MD
      # Fuzz campaign

      `rake fuzz:campaign`, #{Time.now.utc.iso8601}, on #{machine}; #{compiler}; commit #{commit.empty? ? "unknown" : commit}.

      Each target ran for #{execs.to_s.reverse.scan(/\d{1,3}/).join(",").reverse} executions (`-runs`)#{cap} from a fresh copy of its seeds in
      `spec/c/corpus/`, #{jobs} target(s) at a time, built with `-fsanitize=fuzzer,address,undefined` and run as
      `rake fuzz` runs them (`#{FUZZ_FLAGS}`, leak detection on). "clean": libFuzzer finished the
      runs without a crash, a sanitizer report, a leak or a limit hit; otherwise the first finding.

      #{table(rows)}
    MD
  end
end

namespace :fuzz do
  desc "Run every fuzzer for FUZZ_EXECS executions (default 10,000,000) and write bench/results/fuzz.md " \
       "(ONLY= picks a target, FUZZ_JOBS= targets at a time, FUZZ_MAX_SECONDS= a time cap per target)"
  task :campaign do
    execs = Integer(ENV.fetch("FUZZ_EXECS", "10000000"))
    jobs = Integer(ENV.fetch("FUZZ_JOBS", "1"))
    max_seconds = ENV["FUZZ_MAX_SECONDS"]&.then { |value| Integer(value) }
    mkdir_p FUZZ_CAMPAIGN_DIR
    targets = fuzz_targets.to_a
    queue = Queue.new
    targets.each { |target| queue << target }
    queue.close # pop returns nil once the queue is empty
    rows = []
    lock = Mutex.new
    Array.new([jobs, targets.size].min) do
      Thread.new do
        while (target = queue.pop)
          row = FuzzCampaign.run(target, execs, max_seconds)
          lock.synchronize do
            rows << row
            puts format("fuzz:campaign %-24s %12d execs %10s  %s", row[:name], row[:execs],
              FuzzCampaign.duration(row[:seconds]), row[:verdict])
          end
        end
      end
    end.each(&:join)
    rows.sort_by! { |row| row[:name] }
    File.write(FUZZ_RESULTS, FuzzCampaign.report(rows, execs, jobs, max_seconds))
    puts
    puts FuzzCampaign.table(rows)
    puts "\nwritten to #{FUZZ_RESULTS}; logs in #{FUZZ_CAMPAIGN_DIR}"
    dirty = rows.reject { |row| row[:clean] }
    abort "fuzz:campaign: #{dirty.map { |row| row[:name] }.join(", ")} not clean (see the logs)" unless dirty.empty?
  end
end
