# frozen_string_literal: true

require "json"
require_relative "request"
require_relative "retry_policy"
require_relative "heartbeat"
require_relative "compactor"
require_relative "redaction"
require_relative "turn/round_handler"

module AssistantChatNative
  # One assistant turn across rounds: stream a reply, run the tools it asks for, stream
  # again with their results, until the model answers without tools. Retries, compaction,
  # escalation, continuation and cancellation as README's "Turn" section describes.
  #
  #   turn = AssistantChatNative::Turn.new(model: "claude-sonnet", system: "...",
  #     messages: history, tools: [tool], handler: handler, max_rounds: 10, deadline: nil)
  #   outcome = turn.run   # => Outcome
  #
  # Handler methods, every one optional:
  #   on_round(number, model)           a round starts (number counts across continuations)
  #   on_text(accumulated, delta)       the reply so far (all rounds) and the newest piece
  #   on_text_reset(accumulated)        a retry dropped the round's blank partial text: show accumulated
  #   on_thinking(accumulated, delta)   the round's reasoning so far and the newest piece
  #   on_tool_call(name, id)            the model started a tool call (while streaming)
  #   on_status(name, arguments)        a tool starts running (the status line to show)
  #   on_tool_result(call, part)        a tool finished: the ToolCall and its tool_result part
  #   on_retry(attempt, delay, failure) the round is tried again (attempt 2 or 3) after delay s
  #   on_compaction(count, failure)     the history is compacted after a context overflow
  #   on_escalation(from, to, reason)   the turn moves to ESCALATION_MODEL
  #   on_heartbeat(elapsed)             every HEARTBEAT_INTERVAL while streaming, waiting or in tools
  #   on_stream_end(details)            a streamed attempt ended, successful or not (before any
  #                                     retry, compaction or escalation it leads to); details is
  #                                     a new Hash: {round:, attempt: (1 up, restarting on an
  #                                     escalated model), model: (registry key), provider:,
  #                                     model_id:, stats: (the Result's: status,
  #                                     time_to_first_byte, time_to_first_token, duration, bytes,
  #                                     events, flushes), usage:, cost: (USD, the attempt's model's
  #                                     prices, nil when one is unknown), stop_reason:, tool_calls: (count),
  #                                     failures: (kinds of this round's earlier failed attempts),
  #                                     failure_kind: (this attempt's, nil when it succeeded)}
  #   on_checkpoint(state)              what to save so that a job that dies can go on: a
  #                                     JSON-able Hash Turn.resume takes. Called after the model
  #                                     asks for tools, before and after each tool runs, after the
  #                                     round's results, and while text streams at most every
  #                                     config.checkpoint_interval seconds (with the round's text
  #                                     so far). The turn's own tool results are keyed by the
  #                                     tool call's id, so a resumed turn runs no finished call
  #                                     again.
  #   on_resume(text)                   a turn resumed from a checkpoint is about to go on; text is
  #                                     the reply the user had already seen
  #   cancelled?                        true stops the turn (polled while streaming, between
  #                                     rounds, between tools and during retry waits)
  #   compact(messages)                 a shorter history when the context overflows (nil: default)
  class Turn
    HEARTBEAT_INTERVAL = AssistantChatNative::HEARTBEAT_INTERVAL
    MAX_COMPACTION_RETRIES = AssistantChatNative::MAX_COMPACTION_RETRIES
    ESCALATION_MODEL = AssistantChatNative::ESCALATION_MODEL
    STATE_VERSION = 1
    SEPARATOR = "\n\n"
    CANCELLED_RESULT = "Cancelled by the user before this tool ran."
    # What the model reads for a call that was under way when its job died, when its tool is
    # not idempotent: it must not be run twice, and nobody knows whether it finished.
    UNKNOWN_RESULT = "The result of this tool call is unknown: the work running it stopped before it " \
      "reported back. It may or may not have taken effect; check before calling it again."
    # Asked after the reply a dead job had partly streamed, so the model goes on from there.
    CONTINUE_PROMPT = "Your previous reply was interrupted after the text above. Continue it exactly " \
      "where it stopped, without repeating any of it."
    # Tool calls one round may ask for (core/accum.h ACN_ACCUM_MAX_TOOL_CALLS): more fail
    # the round, whatever stream class produced them.
    MAX_TOOL_CALLS = 128
    JSON_MAX_DEPTH = 100 # core/acn.h ACN_JSON_MAX_DEPTH, JSON.generate's default max_nesting

    attr_reader :model

    # The reply a state shows: its rounds' text, then the unfinished round's.
    def self.shown_text(state)
      text = state["text"].to_s
      partial = state["partial_text"].to_s
      return text if partial.empty?

      text.empty? ? partial : text + state.fetch("glue", SEPARATOR) + partial
    end

    # The state with the words a page was shown after it (shown goes on from
    # shown_text(state)) kept as its unfinished round's text; else state as is.
    def self.with_shown_text(state, shown)
      saved = shown_text(state)
      shown = shown.to_s
      return state unless shown.bytesize > saved.bytesize && shown.start_with?(saved)

      grown = shown.byteslice(saved.bytesize..)
      partial = state["partial_text"].to_s
      if partial.empty? && !saved.empty?
        glue = state.fetch("glue", SEPARATOR)
        return state unless grown.start_with?(glue)

        grown = grown.byteslice(glue.bytesize..)
      end
      state.merge("partial_text" => partial + grown)
    end

    # Resumes a turn that ended with status :continue (state is Outcome#state), or one whose
    # job died (state is the last on_checkpoint's), as is or after a JSON round trip; system,
    # tools and handler as for new. From a checkpoint, the calls that were under way are
    # finished first (results already saved are reused, an interrupted call is run again only
    # when its tool is idempotent), and text the user saw is kept: the model is asked to go on
    # from it, and its words are appended.
    def self.resume(state, system: nil, tools: [], handler: nil, max_rounds: nil, deadline: nil,
      config: AssistantChatNative.config)
      new(model: nil, system: system, tools: tools, handler: handler, max_rounds: max_rounds,
        deadline: deadline, state: state, config: config)
    end

    # model: a registry key. messages: the normalized history, ending with the user's message.
    # max_rounds: rounds this run may stream (config.max_rounds by default); deadline: a Time,
    # or a Process::CLOCK_MONOTONIC reading, after which no new round starts. Past either,
    # the outcome is :continue.
    def initialize(model:, system: nil, messages: nil, tools: [], handler: nil, max_rounds: nil,
      deadline: nil, state: nil, config: AssistantChatNative.config)
      @config = config
      @system = system
      @tools = Array(tools)
      @handler = handler || Object.new
      @max_rounds = max_rounds || config.max_rounds
      @deadline = deadline
      @policy = RetryPolicy.new(max_attempts: config.max_attempts, base_delay: config.retry_base_delay,
        max_delay: config.retry_max_delay, max_wait: config.max_retry_wait)
      @cancel_requested = false
      @stream = nil
      @ran = false
      state ? restore(state) : start(model, messages)
      @entry = config.models.fetch(@model)
      ModelRegistry::RetirementWarning.warn_once(@entry, logger: config.logger)
    end

    # Runs the turn to its end (or to a stop: continuation, cancellation, failure) => Outcome.
    # Each step returns what comes next: a round its Result, or the Outcome that ends
    # the turn; tools nil, or the Outcome. Exceptions raised by the handler propagate
    # after the current request is torn down.
    def run
      raise Error, "a Turn runs once; build a new one (or Turn.resume its state)" if @ran

      @ran = true
      notify(:on_resume, @text.dup) if @resumed
      stopped = finish_pending_tools if @pending_tools
      return stopped if stopped

      loop do
        return finish(:cancelled, failure: cancelled_failure) if cancelled?
        return finish(:continue) if @round_details.any? && out_of_rounds?

        result = stream_round
        return result if result.is_a?(Outcome)

        record_assistant(result)
        if result.tool_calls?
          stopped = run_tools(result.tool_calls.reject(&:server?))
          return stopped if stopped
        elsif result.stop_reason != :pause_turn
          return finish(:completed)
        end
      end
    end

    # Stops the turn from another thread: the current request is aborted at once.
    def cancel
      @cancel_requested = true
      @stream&.cancel
    end

    def inspect
      "#<#{self.class.name} model=#{@entry.key} messages=#{@messages.size} tools=#{@tools.size} " \
        "rounds=#{@round_details.size} escalated=#{@escalated}>"
    end

    # What ActiveSupport serializes: what #inspect shows, never the instance variables
    # (the configuration, the stream and its headers, the handler).
    def as_json(*)
      {"model" => @entry.key, "messages" => @messages.size, "tools" => @tools.size,
       "rounds" => @round_details.size, "escalated" => @escalated}
    end

    def to_json(*args)
      as_json.to_json(*args)
    end

    # Called by the round's handler (RoundHandler) as text streams: a checkpoint with the
    # round's text so far, at most every config.checkpoint_interval seconds.
    def streamed(round_text)
      return unless @handler.respond_to?(:on_checkpoint)

      now = Clock.now
      return if @last_checkpoint_at && now - @last_checkpoint_at < @config.checkpoint_interval.to_f

      checkpoint(partial_text: round_text)
    end

    def cancelled?
      (@cancel_requested || (@handler.respond_to?(:cancelled?) && @handler.cancelled?)) ? true : false
    end

    private

    def start(model, messages)
      raise ArgumentError, "Turn needs messages: (the history, ending with the user's message)" if messages.nil?

      @model = model.to_s
      @requested_model = @model
      @escalated = false
      @messages = plain(messages)
      @text = +""
      @compactions = 0
      @rounds_before = 0
      @continuations = 0
      @transcript = []
      @round_details = []
      @usage = empty_usage
      @retries = 0
      @glue = SEPARATOR
      @resumed = false
      @pending_tools = nil
      @last_checkpoint_at = nil
    end

    def restore(state)
      state = plain(state)
      unless state.is_a?(Hash) && state["version"] == STATE_VERSION && state["messages"].is_a?(Array)
        raise ArgumentError, "not a Turn state (expected Outcome#state of status :continue, version #{STATE_VERSION})"
      end

      @model = state.fetch("model")
      @requested_model = state.fetch("requested_model", @model)
      @escalated = state.fetch("escalated", false)
      @messages = state["messages"]
      @text = state.fetch("text", "").dup
      @compactions = state.fetch("compactions", 0)
      @rounds_before = state.fetch("rounds", 0)
      # A checkpoint is the same job's turn going on; a continuation is the next link.
      @resumed = state["checkpoint"] ? true : false
      @continuations = state.fetch("continuations", 0) + (@resumed ? 0 : 1)
      # The same job's turn keeps what it had added (its reply's record); a continuation
      # adds its own part.
      @transcript = (@resumed && state["transcript"].is_a?(Array)) ? state["transcript"].dup : []
      @round_details = []
      @usage = empty_usage
      @retries = 0
      @glue = state.fetch("glue", SEPARATOR)
      @pending_tools = state["tools"].is_a?(Hash) ? state["tools"] : nil
      @last_checkpoint_at = nil
      keep_partial_text(state["partial_text"].to_s)
    end

    # Text a dead job streamed in an unfinished round: the user saw it, so it stays in the
    # reply and the history, and the model is asked to continue it (its words are appended
    # with nothing in between).
    def keep_partial_text(partial)
      return if partial.empty?

      @text << @glue unless @text.empty?
      @text << partial
      append({"role" => "assistant", "content" => [{"type" => "text", "text" => partial}]})
      append({"role" => "user", "content" => [{"type" => "text", "text" => CONTINUE_PROMPT}]})
      @glue = ""
    end

    # One round, tried until it succeeds or cannot: => its Result, or the Outcome that ends
    # the turn.
    def stream_round
      attempts = 0
      failures = []
      usage = empty_usage
      # Each attempt is priced at its own model's prices, so a round escalated partway costs
      # what both models charged.
      @round_cost = 0.0
      notify(:on_round, round_number, @entry.key)
      loop do
        attempts += 1
        result, flushed = stream_once
        add_usage(usage, result.usage)
        attempt_cost = @entry.cost(result.usage || {})
        @round_cost = ModelRegistry::Prices.sum([@round_cost, attempt_cost])
        failure = result.failure
        failure = nil if failure&.kind == :refusal && !result.text.empty?
        failure ||= tool_call_failure(result)
        notify(:on_stream_end, stream_detail(result, attempts, failures, failure).merge(cost: attempt_cost))
        if failure.nil?
          if escalate_empty?(result)
            reset_text if flushed
            failures << :empty_answer
            escalate(:empty_answer)
            attempts = 0
            next
          end
          @round_details << round_detail(result, attempts, failures, usage)
          return result
        end

        failures << failure.kind
        return cancelled_mid_round(result, failure, attempts, failures, usage) if failure.kind == :cancelled || cancelled?

        step = handle_failure(failure, attempts, result, failures, usage, flushed)
        return step if step.is_a?(Outcome)

        attempts = step
      end
    end

    # Decides what a failed attempt leads to => the attempt count to go on from, or the
    # Outcome that ends the turn. The failure's action is the taxonomy's
    # (core/failure_kinds.def), as the classifier adjusted it: Turn follows it and
    # re-derives nothing from the kind. Words the attempt showed are kept once the
    # next step is chosen (a kept reply no longer ends with the tool results
    # escalation looks for).
    def handle_failure(failure, attempts, result, failures, usage, flushed)
      escalating = escalate_failure?(failure)
      keep_shown_text(result) if flushed
      if failure.action == :compact
        compact(failure, result, failures, usage) || attempts
      elsif escalating
        escalate(failure.kind)
        0
      elsif failure.action == :retry
        return fail_round(@policy.wait_too_long_failure(failure), result, attempts, failures, usage) if @policy.wait_too_long?(failure)
        return fail_round(@policy.exhausted_failure(failure, attempts), result, attempts, failures, usage) if @policy.exhausted?(attempts)

        wait_to_retry(failure, attempts) || attempts
      else
        fail_round(failure, result, attempts, failures, usage)
      end
    end

    # A failure when the reply's tool calls cannot be taken as they are: too many, or
    # arguments the history could not hold as JSON (nested past JSON's limit, say).
    # Classified as the stream would have classified them; a JSON error never escapes.
    def tool_call_failure(result)
      calls = result.tool_calls
      if calls.size > MAX_TOOL_CALLS
        return refused_reply(:too_large, "the reply holds more than #{MAX_TOOL_CALLS} tool calls")
      end

      calls.each do |call|
        JSON.generate(call.arguments || {})
      rescue JSON::NestingError
        return refused_reply(:malformed, "#{arguments_of(call)} nest deeper than #{JSON_MAX_DEPTH} levels")
      rescue JSON::JSONError, EncodingError, TypeError
        return refused_reply(:malformed, "#{arguments_of(call)} are not a JSON object")
      end
      nil
    end

    def arguments_of(call)
      "the arguments of tool call #{call.name.to_s.byteslice(0, 64).scrub("")} (#{call.id.to_s.byteslice(0, 64).scrub("")})"
    end

    def refused_reply(transport_error, detail)
      RubyStream::FailureBuilder.new(provider: @entry.dialect)
        .transport(transport_error, status: 200, streamed: false, detail: detail)
    end

    def stream_once
      body = JSON.generate(Request.build(@entry, system: @system, messages: @messages, tools: @tools))
      round_handler = RoundHandler.new(turn: self, handler: @handler, prefix: @text.empty? ? "" : @text + @glue)
      @stream = @config.stream_class.new(provider: @entry.dialect, url: @entry.url,
        headers: @entry.headers(allow_plain_http_hosts: @config.allow_plain_http_hosts),
        body: body, **@config.stream_options)
      @stream.cancel if @cancel_requested
      result = @stream.run(round_handler)
      [result, round_handler.flushed]
    ensure
      @stream = nil
    end

    # The text the user already saw stays in the reply and the transcript; unfinished tool
    # calls are dropped (nothing ran them).
    def cancelled_mid_round(result, failure, attempts, failures, usage)
      @round_details << round_detail(result, attempts, failures, usage)
      unless result.text.empty?
        add_text(result.text)
        append({"role" => "assistant", "content" => [{"type" => "text", "text" => result.text}]})
      end
      finish(:cancelled, failure: failure)
    end

    # Waits out the retry's delay => nil, or the Outcome when the user cancels meanwhile.
    def wait_to_retry(failure, attempts)
      delay = @policy.delay(attempts, failure)
      @retries += 1
      log(:info, "retrying round #{round_number} on #{@entry.key} in #{delay.round(2)}s after #{failure.kind} " \
        "(attempt #{attempts} of #{@policy.max_attempts})")
      notify(:on_retry, attempts + 1, delay, failure)
      with_heartbeat do
        finish_at = Clock.now + delay
        while (left = finish_at - Clock.now) > 0
          return finish(:cancelled, failure: cancelled_failure) if cancelled?

          sleep([left, @config.cancel_poll_interval.to_f, 0.05].min)
        end
      end
      nil
    end

    # A shorter history for the next attempt => nil, or the Outcome when it cannot be had.
    def compact(failure, result, failures, usage)
      return fail_round(compaction_failure(failure), result, 0, failures, usage) if @compactions >= @config.max_compaction_retries

      @compactions += 1
      notify(:on_compaction, @compactions, failure)
      log(:info, "compacting the history (#{@compactions} of #{@config.max_compaction_retries}) after #{failure.kind}")
      compacted = with_heartbeat do
        (@handler.compact(@messages) if @handler.respond_to?(:compact)) ||
          (@config.compactor || Compactor.new).call(@messages)
      end
      compacted = plain(compacted)
      return fail_round(compaction_failure(failure), result, 0, failures, usage) if compacted == @messages

      @messages = compacted
      nil
    end

    def escalate_failure?(failure)
      return false unless can_escalate?

      return true if failure.action == :escalate

      failure.kind == :stalled && @entry.low_tier? && after_tools?
    end

    def escalate_empty?(result)
      can_escalate? && @entry.low_tier? && after_tools? && result.text.strip.empty? && !result.tool_calls?
    end

    def can_escalate?
      target = @config.escalation_model
      !@escalated && target && @entry.key != target.to_s && @config.models.key?(target)
    end

    def escalate(reason)
      from = @entry.key
      @entry = @config.models.fetch(@config.escalation_model)
      @model = @entry.key
      @escalated = true
      log(:warn, "escalating round #{round_number} from #{from} to #{@entry.key} after #{reason}")
      notify(:on_escalation, from, @entry.key, reason)
    end

    # The history ends with tool results: this round answers tool calls.
    def after_tools?
      last = @messages.last
      last && last["role"] == "user" && last["content"].is_a?(Array) && last["content"].any? &&
        last["content"].all? { |part| part["type"] == "tool_result" }
    end

    def record_assistant(result)
      parts = result.thinking_blocks.map { |block| plain(block) }
      parts << {"type" => "text", "text" => result.text} unless result.text.empty?
      result.tool_calls.reject(&:server?).each do |call|
        part = {"type" => "tool_call", "id" => call.id.to_s, "name" => call.name.to_s, "arguments" => plain(call.arguments || {})}
        # Gemini's thoughtSignature, when the decoder kept one, goes back with the call.
        signature = call.signature
        part["signature"] = signature.to_s unless signature.nil? || signature.to_s.empty?
        parts << part
      end
      add_text(result.text) unless result.text.empty?
      append({"role" => "assistant", "content" => parts}) if parts.any?
    end

    def add_text(text)
      @text << @glue unless @text.empty?
      @text << text
      @glue = SEPARATOR
    end

    # Runs the round's tool calls in order, checkpointing before and after each: results
    # holds those already finished (by call id), interrupted the id of a call a dead job
    # had started. => nil, or the Outcome when the user cancelled.
    def run_tools(calls, results = {}, interrupted = nil)
      with_heartbeat do
        calls.each do |call|
          id = call.id.to_s
          next if results.key?(id)

          if cancelled?
            results[id] = result_part(call, CANCELLED_RESULT, true)
            next
          end
          if id == interrupted && !idempotent?(call)
            log(:warn, "tool #{call.name} (#{id}) was under way when its job stopped: not run again")
            results[id] = result_part(call, UNKNOWN_RESULT, true)
          else
            checkpoint(tools: tools_state(calls, results, id))
            notify(:on_status, call.name, call.arguments || {})
            results[id] = execute(call)
          end
          checkpoint(tools: tools_state(calls, results, nil))
          @handler.on_tool_result(call, results[id]) if @handler.respond_to?(:on_tool_result)
        end
      end
      append({"role" => "user", "content" => calls.map { |call| results.fetch(call.id.to_s) }})
      checkpoint
      finish(:cancelled, failure: cancelled_failure) if cancelled?
    end

    # The calls a checkpoint left under way, finished before the next round.
    def finish_pending_tools
      pending = @pending_tools
      @pending_tools = nil
      calls = Array(pending["calls"]).map do |call|
        ToolCall.new(id: call["id"], name: call["name"], arguments: call["arguments"] || {})
      end
      results = pending["results"].is_a?(Hash) ? pending["results"].dup : {}
      run_tools(calls, results, pending["running"])
    end

    def tools_state(calls, results, running)
      {"calls" => calls.map { |call| {"id" => call.id.to_s, "name" => call.name.to_s, "arguments" => plain(call.arguments || {})} },
       "results" => results.dup, "running" => running}
    end

    def idempotent?(call)
      tool = find_tool(call)
      (tool.respond_to?(:idempotent?) && tool.idempotent?) == true
    end

    def find_tool(call)
      @tools.find { |candidate| candidate.name.to_s == call.name.to_s }
    end

    def checkpoint(tools: nil, partial_text: nil)
      return unless @handler.respond_to?(:on_checkpoint)

      @last_checkpoint_at = Clock.now
      state = continuation_state.merge("checkpoint" => true, "transcript" => @transcript.dup)
      state["tools"] = tools if tools
      state["partial_text"] = partial_text.to_s if partial_text
      @handler.on_checkpoint(state)
    end

    def execute(call)
      tool = find_tool(call)
      unless tool
        known = @tools.map(&:name).join(", ")
        return result_part(call, "Unknown tool #{call.name.inspect}. Available tools: #{known}.", true)
      end
      value = call_tool(tool, call)
      result_part(call, value.is_a?(String) ? value : plain(value), false)
    rescue => e
      # The model reads the error to recover, the log keeps it: neither gets a key.
      words = Redaction.text("#{e.class}: #{e.message}")
      log(:error, "tool #{call.name} raised #{words}")
      result_part(call, words, true)
    end

    # The tool's call with the call's id when it takes one (Tool does when its block takes
    # tool_call_id:; any object whose call has that keyword does).
    def call_tool(tool, call)
      parameters = tool.method(:call).parameters
      if parameters.any? { |type, name| type == :keyrest || (name == :tool_call_id && %i[key keyreq].include?(type)) }
        tool.call(call.arguments || {}, tool_call_id: call.id.to_s)
      else
        tool.call(call.arguments || {})
      end
    end

    def result_part(call, content, error)
      {"type" => "tool_result", "tool_call_id" => call.id.to_s, "name" => call.name.to_s,
       "content" => content, "is_error" => error}
    end

    def append(message)
      @messages << message
      @transcript << message
    end

    def out_of_rounds?
      return true if @round_details.size >= @max_rounds
      return false if @deadline.nil?

      @deadline.is_a?(Time) ? Time.now >= @deadline : Clock.now >= @deadline.to_f
    end

    def fail_round(failure, result, attempts, failures, usage)
      @round_details << round_detail(result, attempts, failures, usage)
      log(:warn, "turn failed on #{@entry.key}: #{failure.kind} (#{failure.detail.to_s[0, 200]})")
      finish(:failed, failure: failure)
    end

    def finish(status, failure: nil)
      state = (status == :continue) ? continuation_state : nil
      last = @round_details.last
      Outcome.new(status: status, text: @text.dup, transcript: @transcript, messages: @messages,
        usage: @usage, round_details: @round_details, retries: @retries, compactions: @compactions,
        model: @entry.key, requested_model: @requested_model, escalated: @escalated, failure: failure,
        stop_reason: last && last[:stop_reason], state: state)
    end

    def continuation_state
      {"version" => STATE_VERSION, "model" => @entry.key, "requested_model" => @requested_model,
       "escalated" => @escalated, "messages" => @messages, "text" => @text.dup,
       "glue" => @glue, "rounds" => @rounds_before + @round_details.size, "compactions" => @compactions,
       "continuations" => @continuations}
    end

    def round_detail(result, attempts, failures, usage)
      add_usage(@usage, usage)
      {round: round_number, model: @entry.key, provider: @entry.provider, model_id: @entry.model_id,
       attempts: attempts, failures: failures.dup, usage: usage, cost: @round_cost, stop_reason: result.stop_reason,
       tool_calls: result.tool_calls.size, stats: result.stats}
    end

    # What on_stream_end receives: one attempt's figures, never the request's headers.
    def stream_detail(result, attempt, failures, failure)
      {round: round_number, attempt: attempt, model: @entry.key, provider: @entry.provider,
       model_id: @entry.model_id, stats: (result.stats || {}).to_h.transform_keys(&:to_sym),
       usage: (result.usage || {}).to_h.transform_keys(&:to_sym), stop_reason: result.stop_reason,
       tool_calls: result.tool_calls.size, failures: failures.dup, failure_kind: failure&.kind}
    end

    def round_number
      @rounds_before + @round_details.size + 1
    end

    # An attempt failed after its words reached the user: they stay, and the next attempt
    # (or model) is asked to go on from them, as a resumed turn is. Blank words are
    # dropped instead.
    def keep_shown_text(result)
      return reset_text if result.text.strip.empty?

      keep_partial_text(result.text)
      notify(:on_text, @text.dup, "")
      checkpoint
    end

    # The round's partial text is dropped: from the page, and from what a job that
    # dies now would go on from.
    def reset_text
      @handler.on_text_reset(@text.dup) if @handler.respond_to?(:on_text_reset)
      checkpoint
    end

    def notify(method, *arguments)
      @handler.public_send(method, *arguments) if @handler.respond_to?(method)
    end

    def with_heartbeat(&block)
      return yield unless @handler.respond_to?(:on_heartbeat)

      Heartbeat.new(interval: @config.heartbeat_interval, logger: @config.logger) { |elapsed|
        @handler.on_heartbeat(elapsed)
      }.run(&block)
    end

    def compaction_failure(failure)
      Failure.of(:context_overflow, action: :fail, status: failure.status, detail: failure.detail,
        message: Taxonomy.case_copy(:compaction_exhausted))
    end

    def cancelled_failure
      Failure.of(:cancelled)
    end

    def empty_usage
      {input_tokens: 0, output_tokens: 0}
    end

    def add_usage(total, usage)
      (usage || {}).each { |key, value| total[key.to_sym] = total.fetch(key.to_sym, 0) + value.to_i }
      total
    end

    # JSON-able copy with String keys, so the history and the state survive JSON round trips.
    def plain(value)
      JSON.parse(JSON.generate(value))
    end

    def log(level, message)
      @config.logger.public_send(level, "[AssistantChatNative::Turn] #{message}")
    end
  end
end
