# frozen_string_literal: true

module AssistantChatNative
  class ModelRegistry
    # What a model accepts for reasoning, by provider and model id:
    #
    #   :adaptive  Anthropic: thinking {type: "adaptive"}, the depth in output_config.effort
    #              (low, medium, high, xhigh, max). Claude 5.x, Opus 4.7/4.8, Mythos and Fable take
    #              only this; a budget_tokens request answers 400. Sonnet/Opus 4.6 take both, the
    #              budget deprecated. (platform.claude.com adaptive-thinking and models pages;
    #              anthropic-sdk-python ThinkingConfigAdaptiveParam and OutputConfigParam.effort.)
    #   :budget    Anthropic before 4.6: thinking {type: "enabled", budget_tokens: N}.
    #              Gemini 2.5: thinkingConfig.thinkingBudget.
    #   :level     Gemini 3.x: thinkingConfig.thinkingLevel (low, medium, high; 3.x Flash also
    #              minimal); Google answers 400 when thinkingLevel and thinkingBudget are mixed.
    #   :effort    OpenAI reasoning models: reasoning_effort on Chat Completions.
    module Thinking
      ADAPTIVE_ONLY = /\Aclaude-(?:(?:sonnet|opus|haiku|fable|mythos)-5|opus-4-[78]|mythos|fable)/
      ADAPTIVE_PREFERRED = /\Aclaude-(?:sonnet|opus)-4-6/
      GEMINI_LEVELS = /\Agemini-[3-9]/

      def self.style(provider, model_id)
        case provider
        when :anthropic
          (ADAPTIVE_ONLY.match?(model_id) || ADAPTIVE_PREFERRED.match?(model_id)) ? :adaptive : :budget
        when :gemini then GEMINI_LEVELS.match?(model_id) ? :level : :budget
        when :openai then :effort
        end
      end

      # Whether the model thinks when the request says nothing of thinking: Claude 5.x, Opus
      # 4.7/4.8, Mythos and Fable run adaptive thinking by default (Sonnet 5.5 returns even its
      # text between tool calls as thinking blocks), so their signed thinking blocks must go back
      # with the tool calls that follow them, whatever the registry entry says.
      # (platform.claude.com models/sonnet-5-5/whats-new-sonnet-5-5 and migration-guide.)
      def self.on_by_default?(provider, model_id)
        provider == :anthropic && ADAPTIVE_ONLY.match?(model_id)
      end

      # Whether a token budget is refused outright (rather than deprecated) by the model.
      def self.budget_refused?(provider, model_id)
        case provider
        when :anthropic then ADAPTIVE_ONLY.match?(model_id)
        when :gemini then GEMINI_LEVELS.match?(model_id)
        when :openai then true
        else false
        end
      end
    end
  end
end
