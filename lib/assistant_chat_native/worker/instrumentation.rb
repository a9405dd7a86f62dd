# frozen_string_literal: true

require "active_support/notifications"
require_relative "../redaction"

module AssistantChatNative
  class Worker
    # ActiveSupport::Notifications events and the one log line per turn.
    #
    #   "stream.assistant_chat_native"  one per streamed attempt, published as that stream
    #                                   ends (failed attempts that were retried, compacted
    #                                   or escalated included), so always before its turn's
    #                                   event: worker, conversation_id, model (registry key),
    #                                   provider, model_id, round, attempt, attempts (the
    #                                   same number: the round's attempts so far),
    #                                   retried_after (kinds of the round's earlier failed
    #                                   attempts), status (HTTP), time_to_first_byte,
    #                                   time_to_first_token, duration, bytes, events,
    #                                   input_tokens, output_tokens (plus cache_read_tokens,
    #                                   cache_write_tokens when the provider sent them),
    #                                   flushes, tool_calls, stop_reason, failure_kind (nil
    #                                   when the stream succeeded)
    #   "turn.assistant_chat_native"    one per turn, when it ends: worker, conversation_id,
    #                                   model (asked for), final_model (after escalation),
    #                                   provider, status, rounds, retries, compactions,
    #                                   time_to_first_token, duration, input_tokens,
    #                                   output_tokens, cache_read_tokens, cache_write_tokens
    #                                   (0 when none were reported), cost (USD, cache discounts
    #                                   included, every attempt at its own model's prices; nil
    #                                   when a price is unknown), flushes, failure_kind
    #
    # A stream's event also carries cost: its attempt's, in USD (nil when unknown).
    #
    # Times are seconds. Payloads carry no request headers, so no API key reaches a
    # subscriber or the log. When the turn raises, the exception ActiveSupport adds to
    # the turn's payload (:exception, :exception_object) is the redacted one
    # (Redaction.exception), which is also what propagates.
    #
    #   ActiveSupport::Notifications.subscribe("turn.assistant_chat_native") do |event|
    #     StatsD.distribution("chat.ttft", event.payload[:time_to_first_token])
    #   end
    #   ActiveSupport::Notifications.subscribe("stream.assistant_chat_native") do |event|
    #     StatsD.distribution("chat.stream", event.payload[:duration],
    #       tags: ["model:#{event.payload[:model]}", "failure:#{event.payload[:failure_kind] || "none"}"])
    #   end
    module Instrumentation
      TURN = "turn.assistant_chat_native"
      STREAM = "stream.assistant_chat_native"

      module_function

      # Runs the block (the Turn) and instruments what it returns; while it runs, each
      # stream the handler hears of (TurnHandler#on_stream_end) is published at once.
      def turn(worker:, conversation_id:, model:, handler:, logger:)
        started = Clock.now
        outcome = nil
        payload = {worker: worker, conversation_id: conversation_id, model: model.to_s,
                   provider: provider_for(model)}
        if handler.respond_to?(:stream_observer=)
          handler.stream_observer = ->(details) { stream(details, worker: worker, conversation_id: conversation_id) }
        end
        ActiveSupport::Notifications.instrument(TURN, payload) do
          outcome = redacting_errors { yield }
          payload.merge!(turn_figures(outcome, handler, started))
        end
        logger&.info(log_line(payload))
        outcome
      ensure
        handler.stream_observer = nil if handler.respond_to?(:stream_observer=)
      end

      # The block's value; what it raises, raised again as Redaction leaves it.
      def redacting_errors
        yield
      rescue => e
        shown = Redaction.exception(e)
        raise if shown.equal?(e)

        raise shown, cause: shown.cause
      end

      # Publishes one stream's event from Turn's on_stream_end details.
      def stream(details, worker:, conversation_id:)
        ActiveSupport::Notifications.instrument(STREAM,
          stream_payload(details.to_h.transform_keys(&:to_sym), worker: worker, conversation_id: conversation_id))
      end

      def turn_figures(outcome, handler, started)
        duration = Clock.now - started
        first_token = handler.first_token_clock && (handler.first_token_clock - started)
        usage = total_usage(outcome)
        {
          final_model: outcome.model.to_s,
          final_provider: provider_for(outcome.model),
          status: outcome.status,
          rounds: outcome.rounds.to_i,
          retries: outcome.retries.to_i,
          compactions: outcome.compactions.to_i,
          time_to_first_token: first_token&.round(4),
          duration: duration.round(4),
          input_tokens: usage[:input_tokens].to_i,
          output_tokens: usage[:output_tokens].to_i,
          cache_read_tokens: usage[:cache_read_tokens].to_i,
          cache_write_tokens: usage[:cache_write_tokens].to_i,
          cost: outcome.respond_to?(:cost) ? outcome.cost : nil,
          flushes: handler.flushes,
          failure_kind: outcome.failure&.kind
        }
      end

      def log_line(payload)
        "[AssistantChatNative] turn conversation=#{payload[:conversation_id]} model=#{payload[:final_model] || payload[:model]}" \
          "#{" (escalated from #{payload[:model]})" if payload[:final_model] && payload[:final_model] != payload[:model]}" \
          " provider=#{payload[:final_provider] || payload[:provider]} status=#{payload[:status]} rounds=#{payload[:rounds]}" \
          " ttft=#{format_seconds(payload[:time_to_first_token])} duration=#{format_seconds(payload[:duration])}" \
          " tokens=#{payload[:input_tokens]}/#{payload[:output_tokens]}" \
          " cache=#{payload[:cache_read_tokens].to_i}/#{payload[:cache_write_tokens].to_i}" \
          " cost=#{format_cost(payload[:cost])} flushes=#{payload[:flushes]}" \
          " retries=#{payload[:retries]} compactions=#{payload[:compactions]}" \
          "#{" failure=#{payload[:failure_kind]}" if payload[:failure_kind]}"
      end

      def format_seconds(value)
        value.nil? ? "-" : format("%.3fs", value)
      end

      # "$0.012345", or "-" when a price is unknown.
      def format_cost(value)
        value.nil? ? "-" : format("$%.6f", value)
      end

      # The outcome's total usage: {input_tokens:, output_tokens:, ...}.
      def total_usage(outcome)
        usage = outcome.respond_to?(:usage) ? outcome.usage : nil
        usage.is_a?(Hash) ? usage.transform_keys(&:to_sym) : {}
      end

      def stream_payload(detail, worker:, conversation_id:)
        stats = (detail[:stats] || {}).to_h.transform_keys(&:to_sym)
        usage = (detail[:usage] || {}).to_h.transform_keys(&:to_sym)
        payload = {
          worker: worker,
          conversation_id: conversation_id,
          model: detail[:model].to_s,
          provider: detail[:provider],
          model_id: detail[:model_id],
          round: detail[:round],
          attempt: detail[:attempt],
          attempts: detail[:attempt],
          retried_after: Array(detail[:failures]),
          status: stats[:status],
          time_to_first_byte: stats[:time_to_first_byte],
          time_to_first_token: stats[:time_to_first_token],
          duration: stats[:duration],
          bytes: stats[:bytes],
          events: stats[:events],
          input_tokens: usage[:input_tokens].to_i,
          output_tokens: usage[:output_tokens].to_i
        }
        %i[cache_read_tokens cache_write_tokens].each { |key| payload[key] = usage[key].to_i if usage.key?(key) }
        payload.merge(cost: detail[:cost], flushes: stats[:flushes], new_connections: stats[:new_connections],
          tool_calls: detail[:tool_calls].to_i,
          stop_reason: detail[:stop_reason], failure_kind: detail[:failure_kind])
      end

      def provider_for(model)
        return nil if model.nil?
        return nil unless defined?(AssistantChatNative::ModelRegistry)

        config = %i[config configuration].map { |name| AssistantChatNative.try(name) }.compact.first
        entry = config.try(:models)&.fetch(model.to_s)
        entry.respond_to?(:provider) ? entry.provider : nil
      rescue AssistantChatNative::Error, KeyError, NoMethodError
        nil
      end
    end
  end
end
