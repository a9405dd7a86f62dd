# frozen_string_literal: true

# The C core is built and tested on its own, without Ruby: one cmocka test per
# core module under AddressSanitizer and UndefinedBehaviorSanitizer, and one
# libFuzzer target per parser.

CORE_DIR = "ext/assistant_chat_native/core"
C_SPEC_DIR = "spec/c"
C_BUILD_DIR = "tmp/c"
CORE_SOURCES = FileList["#{CORE_DIR}/*.c"]
C_LIBS = "-lyajl -lcurl"
C_WARNINGS = "-std=c99 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes"
SANITIZERS = "-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"

def c_compiler
  ENV["CC"] || (system("command -v clang >/dev/null 2>&1") ? "clang" : "clang-14")
end

def sanitizer_env
  {
    "ASAN_OPTIONS" => "detect_leaks=1:abort_on_error=1:strict_string_checks=1",
    "UBSAN_OPTIONS" => "print_stacktrace=1:halt_on_error=1"
  }
end

desc "Build and run the C core's tests (spec/c/test_*.c) under ASan and UBSan"
task :ctest do
  mkdir_p C_BUILD_DIR
  # ONLY=sse runs spec/c/test_sse.c alone.
  tests = FileList["#{C_SPEC_DIR}/test_#{ENV.fetch("ONLY", "*")}.c"]
  tests.each do |test|
    binary = File.join(C_BUILD_DIR, File.basename(test, ".c"))
    sh "#{c_compiler} #{C_WARNINGS} -g -O1 #{SANITIZERS} -I#{CORE_DIR} -I#{C_SPEC_DIR} " \
       "-o #{binary} #{test} #{CORE_SOURCES.join(" ")} -lcmocka #{C_LIBS}"
    sh sanitizer_env, binary
  end
  puts "ctest: #{tests.size} C test programs passed"
end

FUZZ_FLAGS = "-rss_limit_mb=2048 -malloc_limit_mb=256 -max_len=65536"

# The fuzz targets ONLY= names (ONLY=sse is spec/c/fuzz_sse.c), or all of them.
def fuzz_targets
  FileList["#{C_SPEC_DIR}/fuzz_#{ENV.fetch("ONLY", "*")}.c"]
end

# Builds a fuzz target and a fresh copy of its checked-in seeds (so a run never
# writes into the repository); returns [binary, corpus directory].
def prepare_fuzzer(target, corpus_root)
  name = File.basename(target, ".c")
  binary = File.join(C_BUILD_DIR, name)
  mkdir_p C_BUILD_DIR
  sh "#{c_compiler} #{C_WARNINGS} -g -O1 -fsanitize=fuzzer,address,undefined " \
     "-fno-sanitize-recover=all -I#{CORE_DIR} -I#{C_SPEC_DIR} -o #{binary} #{target} " \
     "#{CORE_SOURCES.join(" ")} #{C_LIBS}"
  corpus = File.join(corpus_root, name)
  rm_rf corpus
  mkdir_p corpus
  seeds = "#{C_SPEC_DIR}/corpus/#{name}"
  cp_r Dir["#{seeds}/*"], corpus if Dir.exist?(seeds)
  [binary, corpus]
end

desc "Run each fuzzer (spec/c/fuzz_*.c) for FUZZ_SECONDS (default 30) seconds"
task :fuzz do
  seconds = Integer(ENV.fetch("FUZZ_SECONDS", "30"))
  fuzz_targets.each do |target|
    name = File.basename(target, ".c")
    binary, corpus = prepare_fuzzer(target, File.join(C_BUILD_DIR, "corpus"))
    sh sanitizer_env, "#{binary} -max_total_time=#{seconds} #{FUZZ_FLAGS} " \
                      "-artifact_prefix=#{C_BUILD_DIR}/#{name}- -print_final_stats=1 #{corpus}"
  end
end
