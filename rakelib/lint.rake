# frozen_string_literal: true

desc "Check Ruby style (Standard) and C formatting (clang-format)"
task lint: %i[lint:ruby lint:c]

namespace :lint do
  task :ruby do
    sh "bundle exec standardrb"
  end

  task :c do
    sources = FileList["ext/**/*.{c,h}", "spec/c/**/*.{c,h}"]
    sh "clang-format --dry-run --Werror #{sources.join(" ")}"
  end
end
