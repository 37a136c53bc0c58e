// The tool's front: `lowbit VERB [FORMAT] [options]` built from the registry, and the one place where
// errors become exit statuses.
#include <fmt/format.h>

#include <map>
#include <new>
#include <stdexcept>

#include "lowbit/error.hpp"
#include "options.hpp"
#include "registry.hpp"
#include "version.hpp"

namespace lowbit::cli {
namespace {

// The formats of a verb, for the message about an unknown one.
std::vector<std::string> formats_of(std::string_view verb) {
  std::vector<std::string> out;
  for (const Command& c : registry().commands())
    if (c.verb == verb && !c.format.empty()) out.push_back(c.format);
  return out;
}

// `lowbit VERB [FORMAT]` with an unknown VERB, or a VERB that takes a FORMAT without a known one:
// one clear line naming the valid ones, instead of CLI11's.
void check_command(const std::vector<std::string>& args) {
  const auto v = verbs();
  if (args.empty())
    throw UsageError(fmt::format("a command is needed (valid: {}; lowbit --help describes them)",
                                 fmt::join(names_of(v, [](const Verb& verb) { return std::string(verb.name); }), ", ")));
  if (args[0].starts_with('-')) return;
  if (std::none_of(v.begin(), v.end(), [&](const Verb& verb) { return verb.name == args[0]; })) {
    const std::vector<std::string> names = names_of(v, [](const Verb& verb) { return std::string(verb.name); });
    throw UsageError(fmt::format("unknown command '{}' (valid: {})", args[0], fmt::join(names, ", ")));
  }
  const std::vector<std::string> valid = formats_of(args[0]);
  if (valid.empty() || (args.size() > 1 && (args[1] == "-h" || args[1] == "--help"))) return;
  if (args.size() < 2 || args[1].starts_with('-'))
    throw UsageError(fmt::format("{} needs a format first (valid: {})", args[0], fmt::join(valid, ", ")));
  for (const Command& c : registry().commands())
    if (c.verb == args[0] && (c.format == args[1] || std::find(c.aliases.begin(), c.aliases.end(), args[1]) != c.aliases.end()))
      return;
  throw UsageError(fmt::format("unknown format '{}' for {} (valid: {})", args[1], args[0], fmt::join(valid, ", ")));
}

// The subcommand parsed last: the command that runs.
const CLI::App* deepest(const CLI::App& app) {
  const CLI::App* leaf = &app;
  while (!leaf->get_subcommands().empty()) leaf = leaf->get_subcommands().front();
  return leaf;
}

// "encode e4m3"
std::string command_name(const CLI::App& leaf) {
  std::string name = leaf.get_name();
  for (const CLI::App* p = leaf.get_parent(); p && p->get_parent(); p = p->get_parent()) name = p->get_name() + " " + name;
  return name;
}

int fail(int status, std::string_view what) {
  fmt::print(stderr, "lowbit: {}\n", what);
  return status;
}

int parse_and_run(const std::vector<std::string>& args) {
  CLI::App app{"lowbit: bit-exact low-precision formats and their conformance suite", "lowbit"};
  app.require_subcommand(1);
  app.set_version_flag("--version", version_text(), "the version and the ISAs compiled in");
  std::map<const CLI::App*, Action> actions;
  for (const Verb& v : verbs()) {
    CLI::App* verb = nullptr;
    for (const Command& c : registry().commands()) {
      if (c.verb != v.name) continue;
      if (!verb) verb = app.add_subcommand(std::string(v.name), std::string(v.help));
      if (c.format.empty()) {
        actions[verb] = c.define(*verb);
        continue;
      }
      verb->require_subcommand(1);
      CLI::App* sub = verb->add_subcommand(c.format, c.help);
      for (const std::string& a : c.aliases) sub->alias(a);
      actions[sub] = c.define(*sub);
    }
  }
  try {
    check_command(args);
    std::vector<const char*> argv{"lowbit"};
    for (const std::string& a : args) argv.push_back(a.c_str());
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ExtrasError&) {  // CLI11 lists them last first: name them in order, with the command
    const CLI::App* leaf = deepest(app);
    return fail(kUsage, fmt::format("{} does not take: {} (see its --help)", command_name(*leaf), fmt::join(leaf->remaining(true), " ")));
  } catch (const CLI::ParseError& e) {
    return fail(kUsage, e.what());  // one line, without CLI11's hint
  }
  return actions.at(deepest(app))();
}

}  // namespace

int run(const std::vector<std::string>& args) {
  try {
    return parse_and_run(args);
  } catch (const UsageError& e) {
    return fail(kUsage, e.what());
  } catch (const conformance::PluginError& e) {
    return fail(kUsage, e.what());
  } catch (const Error& e) {
    const bool ours = e.code() == Errc::internal || e.code() == Errc::no_memory;
    return fail(ours ? kInternal : kUsage, ours ? fmt::format("{}: {}", name(e.code()), e.what()) : e.what());
  } catch (const std::bad_alloc&) {
    return fail(kInternal, "out of memory");
  } catch (const std::runtime_error& e) {  // the golden and suite readers' errors: a bad golden folder
    return fail(kUsage, e.what());
  } catch (const std::exception& e) {
    return fail(kInternal, fmt::format("internal error: {}", e.what()));
  }
}

int run(int argc, const char* const* argv) { return run(std::vector<std::string>(argv + 1, argv + argc)); }

}  // namespace lowbit::cli
