# frozen_string_literal: true

module WorkerBench
  # The SQL one turn issues, in order, as `sql.active_record` reports it: a turn run
  # alone after the warm-up (nothing else queries then), its statements recorded on
  # the job's thread, with literal values blanked so that two runs read the same.
  # Consecutive repeats (a paced reply's shown-text UPDATEs) are folded into one line
  # with their count.
  module Statements
    module_function

    # Runs the block (one turn, to its end) and returns its statements as
    # [[name, sql], ...]; the calling thread's own queries (the wait) are left out.
    def of_one_turn
      caller_thread = Thread.current
      statements = []
      lock = Mutex.new
      subscriber = ActiveSupport::Notifications.subscribe("sql.active_record") do |*, payload|
        next if Thread.current == caller_thread || payload[:name] == "SCHEMA"

        lock.synchronize { statements << [payload[:name] || "SQL", normalize(payload[:sql])] }
      end
      yield
      lock.synchronize { statements.dup }
    ensure
      ActiveSupport::Notifications.unsubscribe(subscriber) if subscriber
    end

    # The statement with its literals blanked (strings, numbers, time stamps).
    def normalize(sql)
      sql.gsub(/'(?:[^']|'')*'/, "?").gsub(/(?<![$\w])\d+(\.\d+)?/, "?").gsub(/\s+/, " ").strip
    end

    # [[count, name, sql], ...]: runs of the same statement folded.
    def folded(statements)
      statements.chunk_while { |a, b| a == b }.map { |run| [run.size, *run.first] }
    end

    # Markdown: the statements of one turn, now and (when given) before, numbered.
    def markdown(title, now, before)
      lines = ["#{title}: #{now.size} statements#{" (before: #{before.size})" if before}.", ""]
      [["now", now], ["before", before]].each do |label, statements|
        next unless statements

        lines << "#{label.capitalize}:" << "" << "```"
        index = 0
        folded(statements).each do |count, name, sql|
          first = index + 1
          index += count
          number = (count > 1) ? "#{first}-#{index}" : first.to_s
          lines << "#{number.rjust(5)}  #{name}: #{sql}#{" (x#{count})" if count > 1}"
        end
        lines << "```" << ""
      end
      lines.join("\n")
    end
  end
end
