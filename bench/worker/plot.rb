# frozen_string_literal: true

require "erb"

module WorkerBench
  # bench/results/worker.svg in plain Ruby: on the left the sibling thread's delay
  # as a CDF (log scale) per stream and mode, on the right CPU per turn as bars with
  # the range over the runs; the baseline's native and RubyStream in grey beside them.
  class Plot
    WIDTH = 1100
    HEIGHT = 440
    LEFT = {x: 70, y: 50, w: 420, h: 320}.freeze
    RIGHT = {x: 700, y: 50, w: 360, h: 320}.freeze
    COLORS = {"native" => "#1f77b4", "ruby" => "#ff7f0e", "native before" => "#7f7f7f", "ruby before" => "#c7c7c7"}.freeze
    NAMES = {"native" => "native Stream", "ruby" => "RubyStream"}.freeze
    X_MIN = 0.01
    X_MAX = 1000.0

    def initialize(raw, baseline: nil)
      @raw = raw
      @baseline = baseline
    end

    def svg
      [
        %(<svg xmlns="http://www.w3.org/2000/svg" width="#{WIDTH}" height="#{HEIGHT}" font-family="sans-serif" font-size="12">),
        %(<rect width="#{WIDTH}" height="#{HEIGHT}" fill="white"/>),
        cdf_panel,
        bars_panel,
        "</svg>",
        ""
      ].join("\n")
    end

    private

    def short_modes(raw)
      raw ? raw["modes"].reject { |mode| mode["key"] == "long" } : []
    end

    def cdf_panel
      out = [text(LEFT[:x], 30, "Sibling thread delay, CDF (#{short_modes(@raw).map { |m| m["key"] }.join(" solid / ")} dashed)", bold: true)]
      out << axes(LEFT)
      [0.01, 0.1, 1, 10, 100, 1000].each do |tick|
        x = cdf_x(tick)
        out << line(x, LEFT[:y], x, LEFT[:y] + LEFT[:h], "#eee")
        out << text(x, LEFT[:y] + LEFT[:h] + 16, tick.to_s, anchor: "middle")
      end
      [0, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0].each do |fraction|
        y = cdf_y(fraction)
        out << line(LEFT[:x], y, LEFT[:x] + LEFT[:w], y, "#eee")
        out << text(LEFT[:x] - 6, y + 4, "#{(fraction * 100).round}%".sub("99%", "p99"), anchor: "end")
      end
      out << text(LEFT[:x] + LEFT[:w] / 2, LEFT[:y] + LEFT[:h] + 34, "delay beyond the 1 ms asked (ms, log scale)", anchor: "middle")
      curves.each_with_index do |(label, color, dash, points), index|
        path = points.map { |fraction, ms| "#{cdf_x(ms).round(1)},#{cdf_y(fraction).round(1)}" }.join(" ")
        out << %(<polyline fill="none" stroke="#{color}" stroke-width="2" #{'stroke-dasharray="6,4" ' if dash}points="#{path}"/>)
        legend_y = LEFT[:y] + 12 + index * 15
        out << line(LEFT[:x] + LEFT[:w] + 8, legend_y - 4, LEFT[:x] + LEFT[:w] + 28, legend_y - 4, color, dash: dash, width: 2)
        out << text(LEFT[:x] + LEFT[:w] + 32, legend_y, label, size: 10)
      end
      out.join("\n")
    end

    # y: the fraction of samples, stretched above 90% so the tail shows.
    def cdf_y(fraction)
      scaled = (fraction <= 0.9) ? fraction / 0.9 * 0.6 : 0.6 + (fraction - 0.9) / 0.1 * 0.4
      LEFT[:y] + LEFT[:h] * (1 - scaled)
    end

    def cdf_x(ms)
      value = ms.clamp(X_MIN, X_MAX)
      LEFT[:x] + LEFT[:w] * (Math.log10(value) - Math.log10(X_MIN)) / (Math.log10(X_MAX) - Math.log10(X_MIN))
    end

    # [label, color, dashed?, [[fraction, ms], ...]] per stream and mode: the
    # pointwise median of the runs' quantiles.
    def curves
      list = []
      [[@raw, ""], [@baseline, " before"]].each do |raw, suffix|
        short_modes(raw).each do |mode|
          %w[native ruby].each do |variant|
            cdfs = mode["runs"][variant].map { |run| run["delay_cdf"] }.compact
            next if cdfs.empty?

            points = cdfs.first.each_index.map do |i|
              values = cdfs.map { |cdf| cdf[i][1] }.sort
              [cdfs.first[i][0], values[values.size / 2]]
            end
            list << ["#{NAMES[variant]}#{suffix}, #{mode["key"]}", COLORS["#{variant}#{suffix}"], mode["key"] != "paced", points]
          end
        end
      end
      list
    end

    def bars_panel
      modes = short_modes(@raw)
      series = [["native", @raw], ["ruby", @raw]]
      series += [["native before", @baseline], ["ruby before", @baseline]] if @baseline
      bars = modes.flat_map do |mode|
        series.map do |name, raw|
          source = raw["modes"].find { |candidate| candidate["key"] == mode["key"] }
          values = source ? source["runs"][name.split.first].map { |run| run["cpu_ms_per_turn"].to_f } : []
          [mode["key"], name, values]
        end
      end
      top = bars.flat_map { |_mode, _name, values| values }.max.to_f
      top = nice_ceiling(top)
      out = [text(RIGHT[:x], 30, "CPU per turn (ms; median, range over the runs)", bold: true), axes(RIGHT)]
      5.times.map { |i| top * i / 4 }.each do |tick|
        y = bar_y(tick, top)
        out << line(RIGHT[:x], y, RIGHT[:x] + RIGHT[:w], y, "#eee")
        out << text(RIGHT[:x] - 6, y + 4, format("%g", tick.round(1)), anchor: "end")
      end
      group_width = RIGHT[:w].to_f / modes.size
      bar_width = (group_width - 30) / series.size
      modes.each_with_index do |mode, group|
        x0 = RIGHT[:x] + group * group_width + 15
        out << text(x0 + (group_width - 30) / 2, RIGHT[:y] + RIGHT[:h] + 16, mode["key"], anchor: "middle")
        series.each_with_index do |(name, _raw), index|
          values = bars.find { |key, bar_name, _| key == mode["key"] && bar_name == name }[2].sort
          next if values.empty?

          median = values[values.size / 2]
          x = x0 + index * bar_width
          y = bar_y(median, top)
          out << %(<rect x="#{x.round(1)}" y="#{y.round(1)}" width="#{(bar_width - 4).round(1)}" height="#{(RIGHT[:y] + RIGHT[:h] - y).round(1)}" fill="#{COLORS[name]}"/>)
          middle = x + (bar_width - 4) / 2
          out << line(middle, bar_y(values.first, top), middle, bar_y(values.last, top), "#000")
          out << text(middle, y - 4, format("%.1f", median), anchor: "middle", size: 10)
        end
      end
      series.each_with_index do |(name, _raw), index|
        x = RIGHT[:x] + index * 90
        out << %(<rect x="#{x}" y="#{HEIGHT - 30}" width="12" height="12" fill="#{COLORS[name]}"/>)
        out << text(x + 16, HEIGHT - 20, name.sub("native", "native").sub("ruby", "RubyStream"), size: 10)
      end
      out.join("\n")
    end

    def bar_y(value, top)
      RIGHT[:y] + RIGHT[:h] * (1 - value / top)
    end

    def nice_ceiling(value)
      return 1.0 if value <= 0

      step = 10**Math.log10(value).floor
      (value / step).ceil * step.to_f
    end

    def axes(box)
      [line(box[:x], box[:y], box[:x], box[:y] + box[:h], "#000"),
        line(box[:x], box[:y] + box[:h], box[:x] + box[:w], box[:y] + box[:h], "#000")].join("\n")
    end

    def line(x1, y1, x2, y2, color, dash: false, width: 1)
      %(<line x1="#{x1.round(1)}" y1="#{y1.round(1)}" x2="#{x2.round(1)}" y2="#{y2.round(1)}" stroke="#{color}" stroke-width="#{width}"#{' stroke-dasharray="6,4"' if dash}/>)
    end

    def text(x, y, content, anchor: "start", bold: false, size: nil)
      attributes = %(x="#{x.round(1)}" y="#{y.round(1)}" text-anchor="#{anchor}")
      attributes += ' font-weight="bold"' if bold
      attributes += %( font-size="#{size}") if size
      %(<text #{attributes}>#{ERB::Util.html_escape(content)}</text>)
    end
  end
end
