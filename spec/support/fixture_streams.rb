# frozen_string_literal: true

require "json"

# The recorded provider streams under spec/fixtures/<provider>/<name>.sse and the
# Result each must give (<name>.expected.json), as plain data to compare against.
module FixtureStreams
  ROOT = File.expand_path("../fixtures", __dir__)
  PROVIDERS = AssistantChatNative::Providers.names

  module_function

  # [[provider, name, sse_path, expected_path], ...] for every fixture with an expected Result.
  def all
    PROVIDERS.flat_map do |provider|
      Dir[File.join(ROOT, provider.to_s, "*.expected.json")].sort.map do |expected|
        name = File.basename(expected, ".expected.json")
        [provider, name, File.join(ROOT, provider.to_s, "#{name}.sse"), expected]
      end
    end
  end

  def expected(path)
    JSON.parse(File.read(path))
  end

  # A Result in the shape of an expected.json, keeping of its failure only the keys
  # the expectation states (the copy and detail belong to the classifier's specs).
  def as_expected(result, expected)
    json = JSON.parse(JSON.generate(result_hash(result)))
    if json["failure"] && expected["failure"].is_a?(Hash)
      json["failure"] = json["failure"].slice(*expected["failure"].keys)
    end
    json
  end

  def result_hash(result)
    hash = result.to_h
    hash[:tool_calls] = result.tool_calls.map do |call|
      {id: call.id, name: call.name, arguments: call.arguments, server: call.server?, signature: call.signature}.compact
    end
    hash[:failure] = result.failure&.to_h
    hash
  end

  # The ways a stream is cut into reads: whole, network-sized, one byte at a time.
  def chunkings(bytes)
    {
      "whole" => [bytes],
      "network-sized (1400 bytes)" => bytes.scan(/.{1,1400}/mn),
      "awkward (7 bytes)" => bytes.scan(/.{1,7}/mn),
      "one byte" => bytes.each_char.to_a
    }
  end
end
