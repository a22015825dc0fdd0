# Unit tests (Check) and script tests. `make check` runs them all.
TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(OPENMP_CFLAGS) -Wno-missing-prototypes
TEST_LDADD = libnvc_core.la $(CHECK_LIBS) $(NVC_DEP_LIBS)

# Every public header compiles on its own.
TESTS += tests/headers.sh
EXTRA_DIST += tests/headers.sh tests/common.h

# nvc-metrics end to end (figures, CSV, options, bad inputs).
TESTS += tests/nvc-metrics.sh
EXTRA_DIST += tests/nvc-metrics.sh tests/data/cisco_vt_2people_320x192_12fps_9f.y4m

# Ctrl-C leaves no output behind (every tool); nvenc gives the same bytes
# twice (every codec in the build; SKIP without one); nvdec's digest and
# limit options.
TESTS += tests/tools_interrupt.sh tests/nvenc_determinism.sh tests/nvdec_options.sh
EXTRA_DIST += tests/tools_interrupt.sh tests/nvenc_determinism.sh tests/nvdec_options.sh

if HAVE_CHECK
check_PROGRAMS += tests/test_core
tests_test_core_SOURCES = tests/test_core.c tests/common.h
tests_test_core_CFLAGS = $(TEST_CFLAGS)
tests_test_core_LDADD = $(TEST_LDADD)
TESTS += tests/test_core

check_PROGRAMS += tests/test_io
tests_test_io_SOURCES = tests/test_io.c tests/common.h
tests_test_io_CFLAGS = $(TEST_CFLAGS) $(PNG_CFLAGS)
tests_test_io_LDADD = $(TEST_LDADD)
TESTS += tests/test_io

check_PROGRAMS += tests/test_metrics
tests_test_metrics_SOURCES = tests/test_metrics.c tests/common.h
tests_test_metrics_CFLAGS = $(TEST_CFLAGS)
tests_test_metrics_LDADD = $(TEST_LDADD)
TESTS += tests/test_metrics

check_PROGRAMS += tests/test_metrics_ref
tests_test_metrics_ref_SOURCES = tests/test_metrics_ref.c tests/metrics_ref_values.h tests/common.h
tests_test_metrics_ref_CFLAGS = $(TEST_CFLAGS)
tests_test_metrics_ref_LDADD = $(TEST_LDADD)
TESTS += tests/test_metrics_ref
EXTRA_DIST += tests/metrics_reference.py

if HAVE_CUDA
check_PROGRAMS += tests/test_cuda
tests_test_cuda_SOURCES = tests/test_cuda.c tests/common.h
tests_test_cuda_CFLAGS = $(TEST_CFLAGS)
tests_test_cuda_LDADD = $(TEST_LDADD)
TESTS += tests/test_cuda
endif
endif
