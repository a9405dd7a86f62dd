# frozen_string_literal: true

require "tempfile"
require_relative "message_hooks"
require_relative "checkpoint_hooks"
require_relative "cancel_poll"

module AssistantChatNative
  class Worker
    # Every app-specific step of a turn, as a plain method the app's worker may
    # override. The defaults work with the install generator's tables
    # (conversations, messages, the lock columns) and with apps that already have
    # the seed's methods on their conversation model.
    #
    #   find_conversation(id)                 the conversation record
    #   find_sender(user_context)             who sent the message (nil when unknown)
    #   persist_user_message(text, attachments) the user's message, once per job id
    #   persisted_reply                       this job's reply when a previous run saved it
    #   history_messages(attachments)         the history as normalized messages
    #   system_prompt(user_context)           the system prompt
    #   tools_for(tool_services, user_context) tools from the tool-service registry
    #   persist_reply(outcome)                the reply and its tool transcript
    #   persist_partial(outcome)              a turn's transcript before its continuation
    #   save_checkpoint(state, text)          a running turn's state and visible text
    #   unfinished_checkpoint                 [row, state] of a turn that has not ended
    #   compact_messages(messages)            a shorter history after a context overflow
    #   cancelled?                            whether the user asked to stop
    #   attachments_for(upload_ids)           uploads as {type:, path:, media_type:} parts
    #   render_broadcast(payload)             what goes on the wire for one broadcast
    #   broadcast_stream                      what broadcasts go to: a record, streamables or a String
    module Hooks
      # persist_user_message, persisted_reply, history_messages, persist_reply,
      # persist_partial, persist_cancelled.
      include MessageHooks
      # save_checkpoint, unfinished_checkpoint.
      include CheckpointHooks

      # The conversation record (the configured conversation class).
      def find_conversation(conversation_id)
        conversation_model.find(conversation_id)
      end

      # The sender: the sender model's row whose id user_context gives under the
      # model's own key first ("party_id" for Party, "user_id" for User), then under
      # the other of the two; nil when absent, unknown, or the app has no such model.
      def find_sender(user_context)
        model = settings.sender_model
        return nil unless model

        own_key = "#{model.name.demodulize.underscore}_id"
        sender_id = [own_key, "party_id", "user_id"].uniq.lazy.map { |key| user_context[key] }.find { |id| !id.nil? }
        sender_id.nil? ? nil : model.find_by(id: sender_id)
      end

      # The system prompt, with who is asking when user_context says so.
      def system_prompt(user_context)
        about = user_context.slice("name", "department", "role", "title", "timezone")
          .reject { |_key, value| value.to_s.strip.empty? }
        prompt = +"You are a helpful assistant inside this application. Answer concisely and use the tools when they help."
        prompt << "\nThe user: " << about.map { |key, value| "#{key}: #{value}" }.join(", ") << "." if about.any?
        prompt
      end

      # The tools the tool services give this turn.
      def tools_for(tool_services, user_context)
        settings.tool_services.tools_for(tool_services, user_context: user_context, conversation: @conversation)
      end

      # Returns a shorter history after a context overflow; nil lets the Turn use
      # its own default (drop old tool results, then old exchanges).
      def compact_messages(_messages)
        nil
      end

      # True when the user asked to stop: a cancel_requested_at set after the
      # turn's first job took the lock (a cancel stops the whole chain of
      # continuation jobs).
      def cancelled?
        return false unless @conversation.has_attribute?(:cancel_requested_at)

        @cancel_poll = CancelPoll.new(@conversation) unless @cancel_poll&.record.equal?(@conversation)
        requested = @cancel_poll.requested_at
        started = @chain_started_at || @locked_at&.to_f
        !requested.nil? && (started.nil? || requested.to_f >= started)
      end

      # Each upload as an attachment part; files are copied to tempfiles that the
      # job removes whatever happens. Uploads answer `path`, `download` (Active
      # Storage) or `data`, and `content_type`.
      def attachments_for(upload_ids)
        return [] if upload_ids.empty?

        model = settings.resolve(settings.upload_class)
        model.where(id: upload_ids).map do |upload|
          tempfile = Tempfile.new(["acn-upload-#{upload.id}-", File.extname(upload_filename(upload))], binmode: true)
          @attachment_tempfiles << tempfile
          tempfile.write(upload_bytes(upload))
          tempfile.flush
          media_type = upload.try(:content_type) || upload.try(:media_type) || "application/octet-stream"
          {"type" => media_type.start_with?("image/") ? "image" : "document",
           "path" => tempfile.path, "media_type" => media_type}
        end
      end

      # The payload for one broadcast (see Broadcaster); nil leaves it to the
      # Broadcaster (Turbo Stream HTML when turbo-rails is loaded, else the Hash). The
      # final reply, with turbo-rails, replaces the reply target with the message row's
      # partial when the app has one (app/views/messages/_message.html.erb), followed by
      # an empty reply target for the next turn, and empties the status line. A partial
      # that fails to render is logged and the text shown instead: the reply is saved already.
      def render_broadcast(payload)
        message = payload[:message]
        return nil unless payload[:type] == :complete && defined?(::Turbo::StreamsChannel) && message_partial?(message)

        target = "#{broadcaster.target}_reply"
        html = ::ApplicationController.render(partial: message)
        %(<turbo-stream action="replace" target="#{target}"><template>#{html}<div id="#{target}"></div></template></turbo-stream>#{broadcaster.clear_status_html})
      rescue => e
        logger_for.warn("[#{self.class.name}] the message partial did not render (#{e.class}: " \
          "#{Redaction.text(e.message)}); broadcasting the reply's text")
        nil
      end

      # What broadcasts go to: the conversation record, whose stream (its GlobalID
      # param) is the one `turbo_stream_from @conversation` subscribes to. Return an
      # array of streamables or a String (e.g. the seed's "assistant_conversation_#{id}")
      # to broadcast elsewhere; DOM ids follow the last record in it (Broadcaster::StreamName).
      def broadcast_stream
        @conversation || "assistant_conversation_#{@conversation_id}"
      end

      # Thinking text as it grows; not shown by default.
      def on_thinking_text(_text)
        nil
      end

      private

      def conversation_model
        settings.conversation_model
      end

      def message_partial?(message)
        return false unless message.respond_to?(:to_partial_path) && defined?(::ApplicationController)

        ::ApplicationController.new.lookup_context.exists?(message.to_partial_path, [], true)
      end

      def upload_filename(upload)
        (upload.try(:filename) || upload.try(:name) || "upload").to_s
      end

      def upload_bytes(upload)
        if upload.respond_to?(:download)
          upload.download
        elsif upload.respond_to?(:path) && upload.path && File.file?(upload.path)
          File.binread(upload.path)
        else
          upload.try(:data).to_s
        end
      end
    end
  end
end
