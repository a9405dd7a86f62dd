# frozen_string_literal: true

module AssistantChatNative
  class Worker
    # The one durable write of a reply flush: the text the page is about to be shown,
    # into the turn's row, while the row is still streaming. A turn makes one per
    # flush (tens to hundreds), so its SQL is built once, from the row's table and the
    # columns the settings name, and each flush only hands the connection its two
    # values: no relation, no Arel, no SQL compiled per flush. It still goes through
    # the connection's `update`, so ActiveRecord's reconnects, query-cache
    # invalidation (a later read in the job sees the text) and `sql.active_record`
    # events apply as to any query.
    #
    # PostgreSQL and SQLite take the statement as is ($1 and ? placeholders); on other
    # adapters `call` falls back to the relation's update_all.
    class ShownTextStatement
      NAME = "AssistantChatNative shown text"
      PLACEHOLDERS = {"PostgreSQL" => %w[$1 $2], "SQLite" => %w[? ?]}.freeze

      attr_reader :row

      # row: the turn's message row; content, status: its columns' names.
      def initialize(row:, content:, status:)
        @row = row
        @model = row.class
        @id = row.id
        @content = content
        @status = status
        @sql = {}
      end

      # Writes text on connection; returns the rows updated (0 when the row stopped streaming).
      def call(connection, text)
        sql = @sql.fetch(connection.adapter_name) { @sql[connection.adapter_name] = build(connection) }
        return fallback(text) unless sql

        connection.update(sql, NAME, [text, @id])
      end

      private

      def build(connection)
        value, key = PLACEHOLDERS[connection.adapter_name]
        return nil unless value

        table = connection.quote_table_name(@model.table_name)
        streaming = connection.quote(Worker::CheckpointHooks::STREAMING)
        "UPDATE #{table} SET #{connection.quote_column_name(@content)} = #{value} " \
          "WHERE #{connection.quote_column_name(@model.primary_key)} = #{key} " \
          "AND #{connection.quote_column_name(@status)} = #{streaming}".freeze
      end

      def fallback(text)
        @model.where(@model.primary_key => @id).where(@status => Worker::CheckpointHooks::STREAMING)
          .update_all(@content => text)
      end
    end
  end
end
