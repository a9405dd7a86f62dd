# The demo's two users (password "password"), each with a conversation to open.
# Safe to run twice.
[["Ada", "ada@example.com"], ["Grace", "grace@example.com"]].each do |name, email|
  user = User.find_or_initialize_by(email: email)
  user.update!(name: name, password: "password") if user.new_record?
  user.conversations.find_or_create_by!(title: "First chat")
end
