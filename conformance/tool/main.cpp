// lowbit: the command-line face of the library and its conformance suite. The commands are the
// registry's (registry.hpp): every format family registers its own in its own file.
#include "registry.hpp"

int main(int argc, char** argv) { return lowbit::cli::run(argc, argv); }
