Rails.application.routes.draw do
  resource :session, only: %i[new create destroy]

  resources :conversations, only: %i[index create show] do
    resources :messages, only: :create
    resource :cancellation, only: :create
  end

  get "up", to: "rails/health#show", as: :rails_health_check

  root "conversations#index"
end
