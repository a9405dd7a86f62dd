//= link_directory ../stylesheets .css
//= link_tree ../../javascript .js
