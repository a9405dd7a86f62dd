# frozen_string_literal: true

require "etc"
require "rbconfig"
require "shellwords"

# `rake spec:sanitized`: the whole RSpec suite against a build of the extension
# instrumented with AddressSanitizer and UndefinedBehaviorSanitizer.
#
# The extension is built (extconf.rb's ACN_ASAN=1: -O0 -g -fsanitize=address,undefined
# -fno-omit-frame-pointer) with Ruby's own compiler, gcc, into tmp/sanitized, never
# over the normal build. Ruby itself is not instrumented, so the sanitizer runtimes
# must be in the process before anything else: they are preloaded (LD_PRELOAD) from
# the same gcc that built the extension, and tmp/sanitized/lib goes first on the
# load path. Only the rspec process runs that way: a file it requires first takes
# both out of its environment, so what the specs start runs as usual: Redis and
# PostgreSQL (which hangs with ASan preloaded), and Ruby children, which load the
# normal build (hence the dependency on `compile`). Reports are written to files
# under tmp/sanitized/reports; the task fails when any exists, or when the suite
# fails.
#
#   bundle exec rake spec:sanitized
#   SPEC="spec/assistant_chat_native/stream_spec.rb" bundle exec rake spec:sanitized

SANITIZED_DIR = File.expand_path("../tmp/sanitized", __dir__)
SANITIZED_LIB = File.join(SANITIZED_DIR, "lib")
SANITIZED_REPORTS = File.join(SANITIZED_DIR, "reports")

def sanitizer_runtimes
  compiler = RbConfig::CONFIG["CC"].split.first
  %w[libasan.so libubsan.so].map do |name|
    path = `#{compiler} -print-file-name=#{name}`.strip
    abort "spec:sanitized: #{compiler} has no #{name}; install its sanitizer runtime (Debian: libasan8, libubsan1)" unless path.start_with?("/") && File.exist?(path)
    File.realpath(path)
  end
end

# Each option, and why:
#   detect_leaks=0        Ruby does not free its heap at exit, so LeakSanitizer would report all
#                         of Ruby; the extension's leaks are `rake memcheck`'s (Valgrind) to find.
#   halt_on_error=1       an invalid access ends the process at once (ASan cannot go on after one).
#   detect_stack_use_after_return=0  Ruby's conservative GC scans the machine stack; fake
#                         stacks would hide VALUEs from it. (gcc's default, stated to keep it so.)
#   allow_user_segv_handler=1  Ruby handles SIGSEGV itself to raise SystemStackError.
#   use_sigaltstack=0     Ruby gives each thread its own alternate signal stack; ASan would
#                         try to unmap Ruby's at thread exit, and die.
#   strict_string_checks=1 a str* call on a buffer that lacks its NUL is reported.
#   check_initialization_order=1  C globals initialised from others' values are reported.
#   log_path              one report file per process (children included), read by the task.
#   print_stacktrace=1    UBSan's reports say where.
#   halt_on_error=0 (UBSan)  undefined behaviour is reported and the suite goes on, so one run
#                         lists every report; the task still fails on any.
def sanitized_env
  {
    "LD_PRELOAD" => sanitizer_runtimes.join(" "),
    "RUBYOPT" => "-I#{SANITIZED_LIB} -r#{SANITIZED_DIR}/isolate.rb #{ENV["RUBYOPT"]}".strip,
    "ASAN_OPTIONS" => "detect_leaks=0:halt_on_error=1:detect_stack_use_after_return=0:" \
      "allow_user_segv_handler=1:use_sigaltstack=0:strict_string_checks=1:check_initialization_order=1:" \
      "log_path=#{SANITIZED_REPORTS}/asan",
    "UBSAN_OPTIONS" => "print_stacktrace=1:halt_on_error=0:log_path=#{SANITIZED_REPORTS}/ubsan",
    # Time bounds in the specs stretch by this factor (spec/support/stream_helpers.rb).
    "ACN_TIME_SCALE" => ENV.fetch("ACN_TIME_SCALE", "3")
  }
end

namespace :spec do
  desc "Build the extension with ASan+UBSan into tmp/sanitized"
  task :sanitized_build do
    build = File.join(SANITIZED_DIR, "build")
    mkdir_p build
    mkdir_p File.join(SANITIZED_LIB, "assistant_chat_native")
    extconf = File.expand_path("../ext/assistant_chat_native/extconf.rb", __dir__)
    Dir.chdir(build) do
      sh({"ACN_ASAN" => "1"}, RbConfig.ruby, extconf) unless File.exist?("Makefile") && File.mtime("Makefile") > File.mtime(extconf)
      # No redzones on the extension's stack frames: when a Ruby exception leaves the
      # extension, Ruby longjmps (__builtin_longjmp, which ASan cannot see) past them and
      # their poison stays on the thread's stack, where uninstrumented code (libpq, say)
      # later reads and is reported by mistake. Heap, globals and UBSan stay checked;
      # the core's stack frames are checked by `rake ctest` and the fuzzers.
      flags = "--param asan-stack=0"
      sh "make", "clean" unless File.exist?("flags") && File.read("flags") == flags
      File.write("flags", flags)
      sh "make", "-j#{Etc.nprocessors}", "V=0", "cppflags=#{flags}"
    end
    cp File.join(build, "assistant_chat_native.so"), File.join(SANITIZED_LIB, "assistant_chat_native")
  end

  desc "Run the whole RSpec suite against an ASan+UBSan build of the extension; fails on any sanitizer " \
       "report (SPEC= picks files)"
  task sanitized: %i[compile sanitized_build] do
    rm_rf SANITIZED_REPORTS
    mkdir_p SANITIZED_REPORTS
    env = sanitized_env
    File.write(File.join(SANITIZED_DIR, "isolate.rb"), <<~RUBY)
      # frozen_string_literal: true
      # Written by rake spec:sanitized: processes started from here run without the sanitizers.
      ENV.delete("LD_PRELOAD")
      ENV["RUBYOPT"] = ENV["RUBYOPT"].sub(#{env["RUBYOPT"].split(" ", 3).first(2).join(" ").inspect}, "").strip
    RUBY
    # The suite must run the instrumented build: a load error would fall back to RubyStream.
    verify = File.join(SANITIZED_DIR, "verify_build.rb")
    File.write(verify, <<~RUBY)
      loaded = $LOADED_FEATURES.grep(%r{/assistant_chat_native[.]so\\z})
      unless AssistantChatNative.native? && loaded.all? { |path| path.start_with?(#{(SANITIZED_LIB + "/").inspect}) }
        abort "spec:sanitized: not running the build in #{SANITIZED_LIB}: loaded \#{loaded.inspect} " \\
          "(\#{AssistantChatNative::Native.load_error})"
      end
    RUBY
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    files = ENV["SPEC"] ? Shellwords.split(ENV["SPEC"]) : []
    passed = system(env, RbConfig.ruby, "-S", "rspec", "--require", verify, *files)
    minutes = (Process.clock_gettime(Process::CLOCK_MONOTONIC) - started) / 60
    reports = Dir[File.join(SANITIZED_REPORTS, "*")].reject { |path| File.zero?(path) }
    reports.each do |path|
      warn "==> #{path}"
      warn File.read(path)
    end
    puts format("spec:sanitized: suite %s, %d sanitizer report(s), %.1f min", passed ? "passed" : "FAILED",
      reports.size, minutes)
    abort "spec:sanitized: sanitizer reports in #{SANITIZED_REPORTS}" unless reports.empty?
    abort "spec:sanitized: the suite failed under the sanitizers" unless passed
  end
end
