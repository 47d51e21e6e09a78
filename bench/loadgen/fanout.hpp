// fanout.hpp: the entry point of capstan_loadgen's fan-out mode (fanout.cpp), so that
// loadgen.cpp's main only has to dispatch to it. The mode parses its own options.
#pragma once

#include <string_view>

// True if the command line asks for --mode fanout.
inline bool fanout_requested(int argc, char** argv) {
    for (int i = 1; i + 1 < argc; ++i)
        if (std::string_view(argv[i]) == "--mode" && std::string_view(argv[i + 1]) == "fanout")
            return true;
    return false;
}

// Runs the fan-out benchmark with argv's options; returns the exit status (errors exit(1)).
int fanout_main(int argc, char** argv);
