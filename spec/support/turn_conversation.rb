# frozen_string_literal: true

require "base64"
require "tmpdir"

# A conversation in the normalized history format that exercises every part type:
# text, an image and a PDF read from files, an assistant message with thinking, text and
# two parallel tool calls, and the user message answering both (one with an error).
module TurnConversation
  PNG = "\x89PNG\r\n\x1A\n\x00\x00\x00\rIHDR".b
  PDF = "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n1 0 obj\n<<>>\nendobj\n".b

  def self.files
    @files ||= begin
      dir = Dir.mktmpdir("acn-turn-spec")
      png = File.join(dir, "chart.png")
      pdf = File.join(dir, "report.pdf")
      File.binwrite(png, PNG)
      File.binwrite(pdf, PDF)
      {png: png, pdf: pdf}
    end
  end

  def self.weather_tool
    AssistantChatNative::Tool.new(name: "get_weather", description: "Current weather for a city",
      input_schema: {type: "object", properties: {city: {type: "string"}}, required: ["city"]}) { |args| "sunny in #{args["city"]}" }
  end

  def self.messages
    [
      {role: "user", content: [
        {type: "text", text: "Weather in Paris and Rome? See the attachments."},
        {type: "image", path: files[:png], media_type: "image/png"},
        {type: "document", path: files[:pdf], media_type: "application/pdf"}
      ]},
      {"role" => "assistant", "content" => [
        {"type" => "thinking", "thinking" => "Two cities: two calls.", "signature" => "sig-abc"},
        {"type" => "text", "text" => "Checking both."},
        {"type" => "tool_call", "id" => "call_1", "name" => "get_weather", "arguments" => {"city" => "Paris"}},
        {"type" => "tool_call", "id" => "call_2", "name" => "get_weather", "arguments" => {"city" => "Rome"}}
      ]},
      {role: "user", content: [
        {type: "tool_result", tool_call_id: "call_1", content: "18C, clear"},
        {type: "tool_result", tool_call_id: "call_2", content: "RuntimeError: station offline", is_error: true}
      ]}
    ]
  end

  def self.png64
    Base64.strict_encode64(PNG)
  end

  def self.pdf64
    Base64.strict_encode64(PDF)
  end
end
