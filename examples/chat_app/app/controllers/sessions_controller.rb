class SessionsController < ApplicationController
  skip_before_action :require_sign_in, only: %i[new create]

  def new
  end

  def create
    user = User.authenticate_by(email: params[:email].to_s, password: params[:password].to_s)
    if user
      reset_session
      session[:user_id] = user.id
      redirect_to conversations_path
    else
      flash.now[:alert] = "That email and password do not match."
      render :new, status: :unprocessable_entity
    end
  end

  def destroy
    reset_session
    redirect_to new_session_path
  end
end
