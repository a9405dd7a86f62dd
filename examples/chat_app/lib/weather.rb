# frozen_string_literal: true

# The weather tool's lookup table: a stand-in for a weather service, so the
# example's tool answers the same way every time.
module Weather
  FORECASTS = {
    "Lisbon" => {forecast: "sunny", celsius: 24},
    "Oslo" => {forecast: "snowing", celsius: -3},
    "Nairobi" => {forecast: "cloudy", celsius: 19},
    "Tokyo" => {forecast: "raining", celsius: 16}
  }.freeze

  module_function

  # The forecast for city, or nil for a city the table does not know.
  def for(city)
    name = FORECASTS.keys.find { |known| known.casecmp?(city.to_s.strip) }
    name && {city: name, **FORECASTS[name]}
  end

  # The first known city named in text (Lisbon when none is).
  def city_in(text)
    FORECASTS.keys.find { |city| text.to_s.downcase.include?(city.downcase) } || "Lisbon"
  end
end
