# Fuzz targets: tests/fuzz/fuzz_<name>.c (LLVMFuzzerTestOneInput). `make check`
# replays each committed corpus tests/fuzz/corpus/<name>/ through the plain
# driver tests/fuzz/replay.c; tests/fuzz/run.sh builds a target with
# libFuzzer + sanitizers (clang) and fuzzes it.
EXTRA_DIST += tests/fuzz/run.sh tests/fuzz/replay.c tests/fuzz/corpus

check_PROGRAMS += tests/fuzz/replay_entropy
tests_fuzz_replay_entropy_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_entropy.c
tests_fuzz_replay_entropy_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"entropy"'
tests_fuzz_replay_entropy_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS)
tests_fuzz_replay_entropy_LDADD = libnvc_core.la $(NVC_DEP_LIBS)
tests_fuzz_replay_entropy_LDFLAGS = $(OPENMP_CFLAGS)
TESTS += tests/fuzz/replay_entropy
