# frozen_string_literal: true

class CreateUsersAndUploads < ActiveRecord::Migration[7.2]
  def change
    create_table :users do |t|
      t.string :name
      t.timestamps
    end
    create_table :uploads do |t|
      t.string :filename
      t.string :content_type
      t.binary :data
      t.timestamps
    end
  end
end
