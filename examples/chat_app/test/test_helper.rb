ENV["RAILS_ENV"] ||= "test"
require_relative "support/chat_services"
ChatServices.prepare_environment
require_relative "../config/environment"
require "rails/test_help"
