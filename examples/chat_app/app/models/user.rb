class User < ApplicationRecord
  has_secure_password

  has_many :conversations, dependent: :destroy

  normalizes :email, with: ->(email) { email.strip.downcase }
  validates :email, presence: true, uniqueness: true
  validates :name, presence: true
end
