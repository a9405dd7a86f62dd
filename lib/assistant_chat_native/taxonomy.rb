# frozen_string_literal: true

require_relative "error"
require_relative "taxonomy/def_file"

module AssistantChatNative
  # The failure taxonomy (DESIGN.md section 5) as data: each kind's default action,
  # retryability and user-facing copy, copy for cases within a kind, and the phrases
  # that identify a kind in a provider's error message. It is written once, in
  # ext/assistant_chat_native/core/failure_kinds.def; the C core is compiled from
  # that file, and Ruby takes the core's own rows through the extension
  # (Taxonomy.native_rows), or reads the file with DefFile when the extension is
  # not loaded (lib/assistant_chat_native.rb loads the extension first). Ruby code
  # asks here rather than keeping copy, policy, phrases or transport kinds of its own.
  module Taxonomy
    DEF_FILE = File.expand_path("../../ext/assistant_chat_native/core/failure_kinds.def", __dir__)

    # One kind's defaults. The classifier starts every failure from these and may
    # adjust action and retryability for that one failure (see failure_kinds.def).
    Kind = Struct.new(:name, :action, :retryable, :copy) do
      def retryable?
        retryable
      end
    end

    ROWS = respond_to?(:native_rows) ? native_rows : DefFile.read(DEF_FILE)
    # Where ROWS came from: :extension or :file.
    SOURCE = respond_to?(:native_rows) ? :extension : :file

    KINDS = ROWS[:kinds].to_h { |name, action, retryable, copy| [name, Kind.new(name, action, retryable, copy).freeze] }.freeze
    COPIES = ROWS[:copies].to_h.freeze
    PHRASES = ROWS[:phrases].group_by(&:first).transform_values { |rows| rows.map(&:last).freeze }.freeze
    # Each transport error's kind, and what a failure's detail says of it: {lost: [:connection_lost, "..."]}.
    TRANSPORTS = ROWS[:transports].to_h { |error, kind, what| [error, [kind, what].freeze] }.freeze

    module_function

    # The Kind named `name` (a Symbol); KeyError for a name the taxonomy lacks.
    def kind(name)
      KINDS.fetch(name)
    end

    # The user-facing copy of kind `name`.
    def copy(name)
      kind(name).copy
    end

    # The copy for case `name` (an ACN_FAILURE_COPY row), each "%s" in turn
    # replaced by one of values. The copy is data, never a format string.
    def case_copy(name, *values)
      parts = COPIES.fetch(name).split("%s", -1)
      unless values.size == parts.size - 1
        raise ArgumentError, "copy #{name} takes #{parts.size - 1} values, got #{values.size}"
      end

      parts.each_with_index.map { |part, index| index.zero? ? part : values[index - 1].to_s + part }.join
    end

    # The phrases (lowercase) that identify kind `name` in an error message; [] for none.
    def phrases(name)
      PHRASES.fetch(name, [])
    end
  end
end
