# frozen_string_literal: true

# What a page shows of the reply as the chunk broadcasts arrive: each chunk is put
# at its offset (UTF-16 code units, as a browser counts them), an offset of 0
# starting the reply over. Returns the text after each chunk, so a spec can see
# whether the text ever shrank.
module PageReplay
  def self.texts(events)
    shown = +""
    events.select { |event| event["type"] == "chunk" }.map do |event|
      units = shown.encode("UTF-16LE")
      kept = units.byteslice(0, event["offset"].to_i * 2).encode("UTF-8")
      shown = kept + event["delta"].to_s
    end
  end

  # The offsets at which the text shrank (a re-sync that showed less than before).
  def self.shrinks(events)
    texts(events).each_cons(2).filter_map { |before, after| [before, after] unless after.start_with?(before) }
  end
end
