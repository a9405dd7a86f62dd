class ApplicationController < ActionController::Base
  before_action :require_sign_in

  helper_method :current_user

  private

  def current_user
    return @current_user if defined?(@current_user)

    @current_user = session[:user_id] && User.find_by(id: session[:user_id])
  end

  def require_sign_in
    redirect_to new_session_path unless current_user
  end

  # The signed-in user's conversation from params; another user's is a 404, as a
  # missing one is, so its id tells nothing.
  def find_own_conversation(id)
    current_user.conversations.find(id)
  end
end
