# frozen_string_literal: true

# `rake memcheck`: the specs that drive the C extension, run under Valgrind's
# memcheck through the ruby_memcheck gem, which filters Ruby's own never-freed
# memory so only the extension's leaks and invalid accesses are reported. The
# slow, exhaustive specs (every fixture one byte at a time) stay out so the run
# keeps to a few minutes; time bounds in the specs stretch by ACN_TIME_SCALE.

MEMCHECK_SPECS = FileList[
  "spec/assistant_chat_native/stream_spec.rb",
  "spec/integration/stream_faults_spec.rb",
  "spec/assistant_chat_native/sse/**/*_spec.rb",
  "spec/assistant_chat_native/decoder_spec.rb",
  "spec/assistant_chat_native/binding_errors_spec.rb",
  "spec/assistant_chat_native/classify*_spec.rb",
  "spec/assistant_chat_native/taxonomy_spec.rb"
]

begin
  require "ruby_memcheck"
  require "ruby_memcheck/rspec/rake_task"

  # ruby_memcheck tells Ruby's own frames (whose allocations Ruby never frees at exit)
  # by the name libruby.so.<version>; Debian's shared Ruby is libruby-3.1.so.<version>.
  # Without this, every object the extension allocates through Ruby reads as our leak.
  RubyMemcheck::Frame.prepend(Module.new do
    def in_ruby?
      super || (!obj.nil? && File.basename(obj).match?(/\Alibruby[-.]/))
    end
  end)

  # Classes and objects the extension creates through Ruby live in Ruby's heap, which
  # Ruby 3.1 does not free at exit: those allocations are Ruby's to account for. So
  # is what a GC does when an object allocation starts one (rb_data_typed_object_wrap
  # takes the heap slot; its GC's own tables are Ruby's). The data a TypedData object
  # holds is allocated after that call returns, so its leaks are still reported.
  memcheck_config = RubyMemcheck::Configuration.new(
    binary_name: "assistant_chat_native",
    skipped_ruby_functions: RubyMemcheck::Configuration::DEFAULT_SKIPPED_RUBY_FUNCTIONS +
      [/\Arb_define_class/, /\Arb_(?:ec_)?wb_(?:un)?protected_newobj_of\z/, /\Arb_data_(?:typed_)?object_wrap\z/]
  )

  namespace :memcheck do
    RubyMemcheck::RSpec::RakeTask.new(memcheck_config, :specs) do |task|
      task.pattern = MEMCHECK_SPECS.existing.join(",")
      task.rspec_opts = "--order defined"
    end
  end

  desc "Run the C-touching specs under Valgrind (ruby_memcheck); fails on leaks or invalid accesses"
  task memcheck: :compile do
    ENV["ACN_TIME_SCALE"] ||= "15"
    Rake::Task["memcheck:specs"].invoke
  end
rescue LoadError
  desc "Run the C-touching specs under Valgrind (needs the ruby_memcheck gem: bundle install --with lint)"
  task :memcheck do
    abort "rake memcheck needs the ruby_memcheck gem; run `bundle install` with the lint group"
  end
end
