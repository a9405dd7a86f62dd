# frozen_string_literal: true

require "strscan"

module AssistantChatNative
  module Taxonomy
    # Reads core/failure_kinds.def, the X-macro file the C core is built from, for
    # when the extension is not loaded. Strict on purpose: the file is C, and a row
    # this reader would take differently from the compiler must not pass quietly.
    # Accepted are block comments, the file's own macro defaults and #undefs, and
    # rows whose arguments are identifiers, 0 or 1, and string literals (adjacent
    # ones join; no escapes but \" and \\). Anything else raises DefFile::Error.
    class DefFile
      class Error < AssistantChatNative::Error; end

      MACROS = %w[ACN_FAILURE_KIND ACN_FAILURE_COPY ACN_FAILURE_PHRASE ACN_FAILURE_TRANSPORT].freeze
      ACTIONS = %w[RETRY COMPACT ESCALATE FAIL].freeze
      PREPROCESSOR = [
        /\A#ifndef (#{MACROS.join("|")})\z/o,
        /\A#define (#{MACROS.join("|")})\((\w+)(, \w+)*\)\z/o,
        /\A#endif\z/,
        /\A#undef (#{MACROS.join("|")})\z/o
      ].freeze
      STRING = /"((?:[^"\\\n]|\\["\\])*)"/
      # The kinds' shapes: what each argument is.
      SHAPES = {
        "ACN_FAILURE_KIND" => %i[identifier identifier identifier flag string],
        "ACN_FAILURE_COPY" => %i[identifier identifier string],
        "ACN_FAILURE_PHRASE" => %i[identifier string],
        "ACN_FAILURE_TRANSPORT" => %i[identifier identifier string]
      }.freeze

      def self.read(path)
        new(File.read(path, encoding: "UTF-8"), path: path).rows
      end

      def initialize(text, path: "failure_kinds.def")
        @text = text
        @path = path
      end

      # {kinds: [[name, action, retryable, copy], ...], copies: [[name, copy], ...],
      #  phrases: [[kind, phrase], ...], transports: [[transport_error, kind, what], ...]}:
      # the shape Taxonomy.native_rows gives.
      def rows
        rows = {kinds: [], copies: [], phrases: [], transports: []}
        each_row do |macro, arguments, line|
          case macro
          when "ACN_FAILURE_KIND" then rows[:kinds] << kind_row(arguments, line)
          when "ACN_FAILURE_COPY" then rows[:copies] << copy_row(arguments, line)
          when "ACN_FAILURE_PHRASE" then rows[:phrases] << phrase_row(arguments, line, rows[:kinds])
          when "ACN_FAILURE_TRANSPORT" then rows[:transports] << transport_row(arguments, line, rows[:kinds])
          end
        end
        check_unique(rows[:kinds].map(&:first), "kind")
        check_unique(rows[:copies].map(&:first), "copy")
        check_unique(rows[:transports].map(&:first), "transport error")
        rows.transform_values(&:freeze).freeze
      end

      private

      def kind_row(arguments, line)
        upper, name, action, retryable, copy = arguments
        check_name(upper, name, line)
        fail_at(line, "action #{action} is not one of #{ACTIONS.join(", ")}") unless ACTIONS.include?(action)
        fail_at(line, "kind #{name} has no copy") if copy.strip.empty?
        [name.to_sym, action.downcase.to_sym, retryable == "1", copy.freeze].freeze
      end

      def copy_row(arguments, line)
        upper, name, copy = arguments
        check_name(upper, name, line)
        fail_at(line, "copy #{name} is empty") if copy.strip.empty?
        [name.to_sym, copy.freeze].freeze
      end

      def phrase_row(arguments, line, kinds)
        upper, phrase = arguments
        kind = declared_kind(upper, line, kinds)
        fail_at(line, "phrase #{phrase.inspect} is not lowercase") unless phrase == phrase.downcase && !phrase.empty?
        [kind, phrase.freeze].freeze
      end

      def transport_row(arguments, line, kinds)
        error, upper, what = arguments
        fail_at(line, "transport error #{error} is not upper case") unless error == error.upcase
        fail_at(line, "transport error #{error} has no words") if what.strip.empty?
        [error.downcase.to_sym, declared_kind(upper, line, kinds), what.freeze].freeze
      end

      def declared_kind(upper, line, kinds)
        kind = upper.downcase.to_sym
        fail_at(line, "#{upper} is no kind a row above declares") unless upper == upper.upcase && kinds.any? { |row| row.first == kind }
        kind
      end

      def check_name(upper, name, line)
        fail_at(line, "#{upper} and #{name} do not name the same thing") unless upper == name.upcase && name == name.downcase
      end

      def check_unique(names, what)
        repeated = names.tally.select { |_, count| count > 1 }.keys
        raise Error, "#{@path}: #{what} #{repeated.first} is listed twice" if repeated.any?
      end

      # Yields [macro, arguments, line] for each row, arguments as Strings.
      def each_row
        lines = without_comments.lines
        index = 0
        while index < lines.size
          line = lines[index].strip
          number = index + 1
          index += 1
          next if line.empty?
          next check_preprocessor(line, number) if line.start_with?("#")

          macro = MACROS.find { |name| line.start_with?("#{name}(") }
          fail_at(number, "expected a row, got #{line[0, 40].inspect}") unless macro
          row = line
          until closed?(row)
            fail_at(number, "row does not end") if index >= lines.size
            row += " " + lines[index].strip
            index += 1
          end
          yield macro, arguments(macro, row, number), number
        end
      end

      def without_comments
        @text.gsub(%r{/\*.*?\*/}m) { |comment| "\n" * comment.count("\n") }.tap do |text|
          fail_at(text[0, text.index("/*")].count("\n") + 1, "unclosed comment") if text.include?("/*")
          fail_at(text[0, text.index("//")].count("\n") + 1, "only /* */ comments are read") if text.match?(%r{^\s*//})
        end
      end

      def check_preprocessor(line, number)
        fail_at(number, "unexpected #{line.inspect}") unless PREPROCESSOR.any? { |pattern| line.match?(pattern) }
      end

      # A row is closed when its last character is the ")" that balances its first "(".
      def closed?(row)
        depth = 0
        row.gsub(STRING, "").each_char { |char| depth += {"(" => 1, ")" => -1}.fetch(char, 0) }
        depth.zero? && row.end_with?(")")
      end

      def arguments(macro, row, number)
        scanner = StringScanner.new(row.delete_prefix("#{macro}(").delete_suffix(")"))
        values = []
        loop do
          scanner.skip(/\s*/)
          values << argument(scanner, number)
          scanner.skip(/\s*/)
          break if scanner.eos?
          fail_at(number, "expected a comma at #{scanner.rest[0, 20].inspect}") unless scanner.skip(/,/)
        end
        check_shape(macro, values, number)
      end

      def argument(scanner, number)
        if scanner.match?(/"/)
          parts = []
          while scanner.scan(STRING)
            parts << scanner[1].gsub(/\\(["\\])/, '\1')
            scanner.skip(/\s*/)
          end
          fail_at(number, "a string literal is not closed or holds an escape other than \\\" or \\\\") if scanner.match?(/"/)
          [:string, parts.join]
        elsif (flag = scanner.scan(/[01](?!\w)/))
          [:flag, flag]
        elsif (identifier = scanner.scan(/[A-Za-z_]\w*/))
          [:identifier, identifier]
        else
          fail_at(number, "cannot read #{scanner.rest[0, 20].inspect}")
        end
      end

      def check_shape(macro, values, number)
        shape = SHAPES.fetch(macro)
        unless values.map(&:first) == shape
          fail_at(number, "#{macro} takes #{shape.join(", ")}; got #{values.map(&:first).join(", ")}")
        end
        values.map(&:last)
      end

      def fail_at(line, message)
        raise Error, "#{@path}:#{line}: #{message}"
      end
    end
  end
end
