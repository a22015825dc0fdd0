# INR video codecs (HNeRV, NeRV++): networks, training, quantisation, stream payloads, codec plug-in.
libnvc_core_la_SOURCES += \
	inr/inr.h \
	inr/loss.h \
	inr/hnerv.c \
	inr/nervpp.c \
	inr/net.c \
	inr/size.c \
	inr/quant.c \
	inr/frame.c \
	inr/loss.c \
	inr/train.c \
	inr/stream.c \
	inr/plugin.c
EXTRA_DIST += inr/README.md

if HAVE_CHECK
check_PROGRAMS += tests/test_inr
tests_test_inr_SOURCES = tests/test_inr.c tests/common.h
tests_test_inr_CFLAGS = $(TEST_CFLAGS)
tests_test_inr_LDADD = $(TEST_LDADD)
TESTS += tests/test_inr
endif

# nvenc / nvdec with the INR codecs end to end (bad input, cut streams, Ctrl-C).
TESTS += tests/inr-tools.sh
EXTRA_DIST += tests/inr-tools.sh

# Fuzz target of the INR decoders (tests/fuzz/fuzz_inr.c); `make check` replays its corpus.
check_PROGRAMS += tests/fuzz/replay_inr
tests_fuzz_replay_inr_SOURCES = tests/fuzz/replay.c tests/fuzz/fuzz_inr.c
tests_fuzz_replay_inr_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"inr"'
tests_fuzz_replay_inr_CFLAGS = $(AM_CFLAGS) $(OPENMP_CFLAGS)
tests_fuzz_replay_inr_LDADD = libnvc_core.la $(NVC_DEP_LIBS)
tests_fuzz_replay_inr_LDFLAGS = $(OPENMP_CFLAGS)
TESTS += tests/fuzz/replay_inr
