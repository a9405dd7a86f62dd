# frozen_string_literal: true

# `rake assistant_chat_native:reap` in the gem's checkout; the task itself ships in lib/.
load File.expand_path("../lib/assistant_chat_native/tasks/reap.rake", __dir__)
