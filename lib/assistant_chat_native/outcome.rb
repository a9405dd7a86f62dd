# frozen_string_literal: true

require_relative "model_registry/prices"

module AssistantChatNative
  # What Turn#run produced. Plain data.
  #
  #   status           :completed, :continue (more rounds needed: resume from #state),
  #                    :cancelled or :failed (see #failure)
  #   text             the reply as shown to the user: every round's text, joined by a blank
  #                    line, including text carried in from the state this turn resumed from
  #   transcript       the messages this run added, in order, as normalized String-keyed
  #                    Hashes: assistant messages (thinking, text, tool_call parts) and user
  #                    messages of tool_result parts; append them to the history to persist
  #   messages         the whole history after this run (input, possibly compacted, + transcript)
  #   usage            tokens in total for this run: {input_tokens:, output_tokens:, ...}
  #                    (cache_read_tokens:, cache_write_tokens: when the provider reported them)
  #   cost             USD for this run (#cost)
  #   round_details    one Hash per round: {round:, model:, provider:, model_id:, attempts:,
  #                    failures: [kinds of failed attempts], usage:, cost:, stop_reason:, tool_calls:, stats:}
  #   rounds           rounds completed in this run (round_details.size)
  #   retries          attempts retried after a failure, over all rounds
  #   compactions      history compactions (this run and any it resumed from)
  #   model            the registry key that produced the reply (after any escalation)
  #   requested_model  the key the turn was asked to use
  #   escalated        whether the turn moved to ESCALATION_MODEL
  #   failure          the Failure when status is :failed (and :cancelled), else nil
  #   stop_reason      the last round's stop reason
  #   state            when status is :continue, a JSON-able Hash to pass to Turn.resume
  #   round_stats      per-round Hashes flattened for instrumentation (see #round_stats)
  class Outcome
    STATUSES = %i[completed continue cancelled failed].freeze

    attr_reader :status, :text, :transcript, :messages, :usage, :round_details, :retries,
      :compactions, :model, :requested_model, :failure, :stop_reason, :state

    def initialize(status:, text:, transcript:, messages:, usage:, round_details:, retries:, compactions:,
      model:, requested_model:, escalated:, failure: nil, stop_reason: nil, state: nil)
      raise ArgumentError, "unknown outcome status #{status.inspect}" unless STATUSES.include?(status)

      @status = status
      @text = text
      @transcript = transcript
      @messages = messages
      @usage = usage
      @round_details = round_details
      @retries = retries
      @compactions = compactions
      @model = model
      @requested_model = requested_model
      @escalated = escalated
      @failure = failure
      @stop_reason = stop_reason
      @state = state
      freeze
    end

    STATUSES.each do |name|
      define_method(:"#{name}?") { status == name }
    end

    def escalated?
      @escalated
    end

    def rounds
      round_details.size
    end

    def usage_per_round
      round_details.map { |round| round[:usage] }
    end

    alias_method :total_usage, :usage

    # What this run's requests cost in USD (a Float), every attempt priced at its own model's
    # prices (ModelRegistry::Prices), cache reads at the cache-read price: an escalated turn
    # costs the sum of both models'. nil when a price it needed is unknown.
    def cost
      ModelRegistry::Prices.sum(round_details.map { |round| round.fetch(:cost, nil) })
    end

    # One flat Hash per round for instrumentation: round, model, provider, attempts, tokens
    # (cache counts nil when not reported), cost,
    # stop_reason, failure_kind (of the last failed attempt, nil when none) and the last
    # attempt's stream stats (status, time_to_first_byte, time_to_first_token, duration,
    # bytes, events, flushes).
    def round_stats
      round_details.map do |round|
        (round[:stats] || {}).to_h.transform_keys(&:to_sym).merge(
          round: round[:round], model: round[:model], provider: round[:provider], attempts: round[:attempts],
          input_tokens: round[:usage][:input_tokens], output_tokens: round[:usage][:output_tokens],
          cache_read_tokens: round[:usage][:cache_read_tokens], cache_write_tokens: round[:usage][:cache_write_tokens],
          cost: round[:cost], stop_reason: round[:stop_reason], failure_kind: round[:failures].last
        )
      end
    end

    # Everything but the history, for logs and instrumentation.
    def to_h
      {status: status, text: text, model: model, requested_model: requested_model, escalated: escalated?,
       rounds: rounds, retries: retries, compactions: compactions, usage: usage, cost: cost,
       round_details: round_details, stop_reason: stop_reason, failure: failure&.to_h}
    end

    def inspect
      "#<#{self.class.name} #{status} model=#{model} rounds=#{rounds} retries=#{retries} " \
        "compactions=#{compactions} text=#{text.bytesize}B failure=#{failure&.kind.inspect}>"
    end
  end
end
