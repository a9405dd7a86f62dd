# frozen_string_literal: true

# `rake assistant_chat_native:models` in the gem's checkout; the task itself ships in lib/.
load File.expand_path("../lib/assistant_chat_native/tasks/models.rake", __dir__)
