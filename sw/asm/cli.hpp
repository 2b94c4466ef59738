// What tpu-as and tpu-dis share on the command line (CLI11): the parse with the exit statuses
// of docs/assembly.md, "Images and the command lines", and a check for file-name options.
#pragma once

#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace tpu::assembler {

// Rejects an empty value ("-o ''").
inline const CLI::Validator kNonEmpty(
    [](std::string& value) { return value.empty() ? std::string("needs a file name") : ""; },
    "FILE", "NON-EMPTY");

// Parses the command line into `app`'s options. Returns the exit status when the program
// should stop here: 0 after printing the help for -h/--help, 2 after a bad command line
// (the error, then the help, on standard error); nothing when it should go on.
inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success&) {
    std::cout << app.help();
    return 0;
  } catch (const CLI::ParseError& e) {
    // CLI11 checks for missing required options before it complains about arguments it does
    // not know, so `tpu-as --frobnicate` would say "INPUT is required"; the unknown argument
    // is the real mistake.
    const std::vector<std::string> extras = app.remaining();
    const bool missing = dynamic_cast<const CLI::RequiredError*>(&e) != nullptr;
    const std::string why = missing && !extras.empty() ? CLI::ExtrasError(extras).what() : e.what();
    std::cerr << app.get_name() << ": " << why << "\n" << app.help();
    return 2;
  }
  return std::nullopt;
}

}  // namespace tpu::assembler
