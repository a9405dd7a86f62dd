# frozen_string_literal: true

desc "Check Ruby style (Standard), C formatting (clang-format) and the C core (cppcheck)"
task lint: %i[lint:ruby lint:c]

namespace :lint do
  task :ruby do
    sh "bundle exec standardrb"
  end

  task :c do
    sources = FileList["ext/**/*.{c,h}", "spec/c/**/*.{c,h}"]
    sh "clang-format --dry-run --Werror #{sources.join(" ")}"
    # The core is plain C: cppcheck reads it without Ruby's headers in the way.
    sh "cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability --std=c99 " \
       "-I ext/assistant_chat_native/core #{FileList["ext/assistant_chat_native/core/*.c"].join(" ")}"
  end
end
