//= link_tree ../images
//= link_directory ../stylesheets .css
//= link_tree ../../javascript .js
