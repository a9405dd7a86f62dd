# frozen_string_literal: true

# rubocop:disable Style/GlobalVars -- mkmf is configured through its globals

# Finds libcurl and yajl the way patron and hiredis-client do: pkg-config first,
# then the plain library and header checks, then one sentence naming the Debian
# package to install.
require "mkmf"

def require_library(pkg:, lib:, header:, func:, debian:)
  return if pkg_config(pkg) && have_header(header)
  return if have_library(lib, func, header) && have_header(header)

  abort "assistant_chat_native needs #{pkg} to build: install it with `apt-get install #{debian}` " \
        "(or your system's equivalent) and try again."
end

require_library(pkg: "libcurl", lib: "curl", header: "curl/curl.h", func: "curl_multi_poll",
  debian: "libcurl4-openssl-dev")
require_library(pkg: "yajl", lib: "yajl", header: "yajl/yajl_parse.h", func: "yajl_alloc",
  debian: "libyajl-dev")

abort "assistant_chat_native needs libcurl 7.68 or newer (curl_multi_wakeup)." unless have_func("curl_multi_wakeup", "curl/curl.h")

# Wiping secrets before free: explicit_bzero where libc has it (a volatile loop otherwise).
have_func("explicit_bzero", "string.h")

# Newer C API functions are probed, never assumed (users run Rubies newer than 3.1).
have_func("rb_gc_mark_movable", "ruby.h")
have_func("rb_gc_location", "ruby.h")
have_func("rb_thread_call_without_gvl", "ruby/thread.h")

# The core lives in core/ and knows nothing of Ruby; the binding files sit beside it
# (*_class.c one Ruby class each, *_to_ruby.c core structs as Ruby objects). Every
# .c file of both is compiled, so adding or renaming one needs no change here.
core_dir = File.join(__dir__, "core")
$VPATH << "$(srcdir)/core"
$INCFLAGS << " -I$(srcdir)/core"
$srcs = Dir[File.join(__dir__, "*.c")].map { |path| File.basename(path) } +
  Dir[File.join(core_dir, "*.c")].map { |path| File.basename(path) }

$CFLAGS << " -std=gnu99 -Wall -Wextra -fvisibility=hidden"
# Ruby's own headers trip these with -Wextra; our code is checked for them by the C tests.
$CFLAGS << " -Wno-unused-parameter -Wno-missing-field-initializers"
$CFLAGS << " -Werror" if ENV["ACN_WERROR"] == "1"
$CFLAGS << " -O0 -g -fsanitize=address,undefined -fno-omit-frame-pointer" if ENV["ACN_ASAN"] == "1"

create_makefile("assistant_chat_native/assistant_chat_native")

# mkmf's Makefile knows no header dependencies: without these, a changed struct in
# a header leaves objects built against the old layout (and a crash at run time).
# failure_kinds.def is included like a header: a change to it rebuilds what includes it.
headers = Dir[File.join(__dir__, "*.h"), File.join(core_dir, "*.h"), File.join(core_dir, "*.def")].sort
File.open("Makefile", "a") { |makefile| makefile.puts "\n$(OBJS): #{headers.join(" ")}" }
# rubocop:enable Style/GlobalVars
