#pragma once
// The texts of the named templates, split over two files by model family.
#include <map>
#include <string>

namespace axl::chat {

void add_general_templates(std::map<std::string, std::string>& table);  // named_templates_general.cpp
void add_family_templates(std::map<std::string, std::string>& table);   // named_templates_families.cpp

}  // namespace axl::chat
