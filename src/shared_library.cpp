// libcapstan.so is linked from the static library's objects, whole (src/CMakeLists.txt,
// capstan_shared): nothing is compiled twice. CMake wants a source of the target's own; this
// empty one is it.
