# Fuzz targets: tests/fuzz/fuzz_<name>.c (LLVMFuzzerTestOneInput). `make check`
# replays each committed corpus tests/fuzz/corpus/<name>/ through the plain
# driver tests/fuzz/replay.c; tests/fuzz/run.sh builds a target with
# libFuzzer + sanitizers (clang) and fuzzes it. tests/fuzz/README.md says how
# to add a target (a codec: one file, one block here, a seed corpus).
EXTRA_DIST += tests/fuzz/run.sh tests/fuzz/replay.c tests/fuzz/corpus tests/fuzz/README.md \
	tests/fuzz/fuzz_common.h tests/fuzz/fuzz_picture.h
FUZZ_CPPFLAGS = $(AM_CPPFLAGS)
FUZZ_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS)
FUZZ_LDADD = libnvc_core.la $(NVC_DEP_LIBS)

check_PROGRAMS += tests/fuzz/replay_entropy
tests_fuzz_replay_entropy_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_entropy.c
tests_fuzz_replay_entropy_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"entropy"'
tests_fuzz_replay_entropy_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_replay_entropy_LDADD = $(FUZZ_LDADD)
tests_fuzz_replay_entropy_LDFLAGS = $(OPENMP_CFLAGS)
TESTS += tests/fuzz/replay_entropy

# Containers: Matroska (through libavformat), elementary stream, record.
check_PROGRAMS += tests/fuzz/replay_mkv
tests_fuzz_replay_mkv_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_mkv.c
tests_fuzz_replay_mkv_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"mkv"'
tests_fuzz_replay_mkv_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_replay_mkv_LDADD = $(FUZZ_LDADD)
tests_fuzz_replay_mkv_LDFLAGS = $(OPENMP_CFLAGS)
TESTS += tests/fuzz/replay_mkv

check_PROGRAMS += tests/fuzz/replay_es
tests_fuzz_replay_es_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_es.c
tests_fuzz_replay_es_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"es"'
tests_fuzz_replay_es_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_replay_es_LDADD = $(FUZZ_LDADD)
tests_fuzz_replay_es_LDFLAGS = $(OPENMP_CFLAGS)
TESTS += tests/fuzz/replay_es

check_PROGRAMS += tests/fuzz/replay_record
tests_fuzz_replay_record_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_record.c
tests_fuzz_replay_record_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"record"'
tests_fuzz_replay_record_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_replay_record_LDADD = $(FUZZ_LDADD)
tests_fuzz_replay_record_LDFLAGS = $(OPENMP_CFLAGS)
TESTS += tests/fuzz/replay_record

# Picture readers: Y4M, PNG (through libpng), raw .yuv names.
check_PROGRAMS += tests/fuzz/replay_y4m
tests_fuzz_replay_y4m_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_y4m.c
tests_fuzz_replay_y4m_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"y4m"'
tests_fuzz_replay_y4m_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_replay_y4m_LDADD = $(FUZZ_LDADD)
tests_fuzz_replay_y4m_LDFLAGS = $(OPENMP_CFLAGS)
TESTS += tests/fuzz/replay_y4m

check_PROGRAMS += tests/fuzz/replay_png
tests_fuzz_replay_png_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_png.c
tests_fuzz_replay_png_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"png"'
tests_fuzz_replay_png_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_replay_png_LDADD = $(FUZZ_LDADD)
tests_fuzz_replay_png_LDFLAGS = $(OPENMP_CFLAGS)
TESTS += tests/fuzz/replay_png

check_PROGRAMS += tests/fuzz/replay_yuvname
tests_fuzz_replay_yuvname_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_yuvname.c
tests_fuzz_replay_yuvname_CPPFLAGS = $(FUZZ_CPPFLAGS) -DFUZZ_NAME='"yuvname"'
tests_fuzz_replay_yuvname_CFLAGS = $(FUZZ_CFLAGS)
tests_fuzz_replay_yuvname_LDADD = $(FUZZ_LDADD)
tests_fuzz_replay_yuvname_LDFLAGS = $(OPENMP_CFLAGS)
TESTS += tests/fuzz/replay_yuvname
