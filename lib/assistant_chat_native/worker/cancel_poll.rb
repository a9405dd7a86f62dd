# frozen_string_literal: true

module AssistantChatNative
  class Worker
    # The default cancelled? hook's read of the conversation's cancel_requested_at,
    # asked every cancel_poll_interval while a turn streams. Its SQL is built once per
    # turn, and each poll hands the connection the row's id: no relation or Arel per
    # poll, and no query cache (Sidekiq runs jobs inside the Rails executor, whose cache
    # would answer every poll with the first one's result: select_value under
    # `uncached` goes to the database each time).
    #
    # PostgreSQL and SQLite take the statement as is; other adapters read through the
    # relation (`pick`).
    class CancelPoll
      NAME = "AssistantChatNative cancel poll"
      PLACEHOLDERS = {"PostgreSQL" => "$1", "SQLite" => "?"}.freeze
      COLUMN = "cancel_requested_at"

      attr_reader :record

      def initialize(record)
        @record = record
        @model = record.class
        @type = @model.type_for_attribute(COLUMN)
        @sql = {}
      end

      # When the user asked to stop (a Time), or nil.
      def requested_at
        @model.uncached do
          on_connection do |connection|
            sql = @sql.fetch(connection.adapter_name) { @sql[connection.adapter_name] = build(connection) }
            if sql
              @type.deserialize(connection.select_value(sql, NAME, [@record.id]))
            else
              @model.where(id: @record.id).pick(COLUMN)
            end
          end
        end
      end

      private

      # The model's connection as its own queries take it (Rails 7.2's with_connection).
      def on_connection(&block)
        @model.respond_to?(:with_connection) ? @model.with_connection(&block) : yield(@model.connection)
      end

      def build(connection)
        placeholder = PLACEHOLDERS[connection.adapter_name]
        return nil unless placeholder

        "SELECT #{connection.quote_column_name(COLUMN)} FROM #{connection.quote_table_name(@model.table_name)} " \
          "WHERE #{connection.quote_column_name(@model.primary_key)} = #{placeholder}".freeze
      end
    end
  end
end
