# frozen_string_literal: true

require "active_support/notifications"

module AssistantChatNative
  class Worker
    # ActiveSupport::Notifications events and the one log line per turn.
    #
    #   "stream.assistant_chat_native"  one per streamed round: model, provider,
    #                                   round, attempts, retried_after (failure kinds),
    #                                   time_to_first_token, duration, input_tokens,
    #                                   output_tokens, flushes, stop_reason, failure_kind
    #   "turn.assistant_chat_native"    one per turn: worker, conversation_id, model
    #                                   (asked for), final_model (after escalation),
    #                                   provider, status, rounds, retries, compactions,
    #                                   time_to_first_token, duration, input_tokens,
    #                                   output_tokens, flushes, failure_kind
    #
    # Payloads carry no request headers, so no API key reaches a subscriber or the log.
    #
    #   ActiveSupport::Notifications.subscribe("turn.assistant_chat_native") do |event|
    #     StatsD.distribution("chat.ttft", event.payload[:time_to_first_token])
    #   end
    module Instrumentation
      TURN = "turn.assistant_chat_native"
      STREAM = "stream.assistant_chat_native"

      module_function

      # Runs the block (the Turn) and instruments what it returns.
      def turn(worker:, conversation_id:, model:, handler:, logger:)
        started = Clock.now
        outcome = nil
        payload = {worker: worker, conversation_id: conversation_id, model: model.to_s,
                   provider: provider_for(model)}
        ActiveSupport::Notifications.instrument(TURN, payload) do
          outcome = yield
          payload.merge!(turn_figures(outcome, handler, started))
          details = round_stats(outcome)
          details.each_with_index do |detail, index|
            last_failed = index == details.size - 1 && outcome.status == :failed
            ActiveSupport::Notifications.instrument(STREAM,
              stream_payload(detail, index, payload).merge(failure_kind: last_failed ? outcome.failure&.kind : nil))
          end
        end
        logger&.info(log_line(payload))
        outcome
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
          flushes: handler.flushes,
          failure_kind: outcome.failure&.kind
        }
      end

      def log_line(payload)
        "[AssistantChatNative] turn conversation=#{payload[:conversation_id]} model=#{payload[:final_model] || payload[:model]}" \
          "#{" (escalated from #{payload[:model]})" if payload[:final_model] && payload[:final_model] != payload[:model]}" \
          " provider=#{payload[:final_provider] || payload[:provider]} status=#{payload[:status]} rounds=#{payload[:rounds]}" \
          " ttft=#{format_seconds(payload[:time_to_first_token])} duration=#{format_seconds(payload[:duration])}" \
          " tokens=#{payload[:input_tokens]}/#{payload[:output_tokens]} flushes=#{payload[:flushes]}" \
          " retries=#{payload[:retries]} compactions=#{payload[:compactions]}" \
          "#{" failure=#{payload[:failure_kind]}" if payload[:failure_kind]}"
      end

      def format_seconds(value)
        value.nil? ? "-" : format("%.3fs", value)
      end

      # The outcome's total usage: {input_tokens:, output_tokens:, ...}.
      def total_usage(outcome)
        usage = outcome.respond_to?(:usage) ? outcome.usage : nil
        usage.is_a?(Hash) ? usage.transform_keys(&:to_sym) : {}
      end

      # One Hash per streamed round (Outcome#round_details).
      def round_stats(outcome)
        details = outcome.respond_to?(:round_details) ? outcome.round_details : nil
        Array(details).map { |detail| detail.to_h.transform_keys(&:to_sym) }
      end

      def stream_payload(detail, index, turn_payload)
        stats = (detail[:stats] || {}).to_h.transform_keys(&:to_sym)
        usage = (detail[:usage] || {}).to_h.transform_keys(&:to_sym)
        {
          model: (detail[:model] || turn_payload[:final_model]).to_s,
          provider: detail[:provider] || turn_payload[:final_provider],
          round: detail[:round] || index + 1,
          attempts: detail[:attempts],
          retried_after: Array(detail[:failures]),
          time_to_first_token: stats[:time_to_first_token],
          duration: stats[:duration],
          input_tokens: usage[:input_tokens].to_i,
          output_tokens: usage[:output_tokens].to_i,
          flushes: stats[:flushes],
          stop_reason: detail[:stop_reason]
        }
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
