module ApplicationCable
  class Connection < ActionCable::Connection::Base
    identified_by :current_user

    # The signed-in user from the session cookie; a signed-out browser gets no socket.
    def connect
      self.current_user = find_verified_user || reject_unauthorized_connection
    end

    private

    def find_verified_user
      session = cookies.encrypted[Rails.application.config.session_options[:key]]
      user_id = session && session["user_id"]
      user_id && User.find_by(id: user_id)
    end
  end
end
