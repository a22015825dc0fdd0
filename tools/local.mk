# Command-line tools. Each links libnvc (public API) plus tools/common.c.
noinst_LTLIBRARIES += tools/libtoolcommon.la
tools_libtoolcommon_la_SOURCES = tools/common.c tools/common.h
TOOL_LDADD = tools/libtoolcommon.la libnvc.la $(NVC_DEP_LIBS)

bin_PROGRAMS += tools/nvc-metrics
tools_nvc_metrics_SOURCES = tools/nvc-metrics.c
tools_nvc_metrics_LDADD = $(TOOL_LDADD)
dist_man_MANS += doc/man/nvc-metrics.1

bin_PROGRAMS += tools/nvc-info
tools_nvc_info_SOURCES = tools/nvc-info.c
tools_nvc_info_LDADD = $(TOOL_LDADD)
dist_man_MANS += doc/man/nvc-info.1

if HAVE_CHECK
check_PROGRAMS += tests/test_nvc_info
tests_test_nvc_info_SOURCES = tests/test_nvc_info.c tests/common.h
tests_test_nvc_info_CFLAGS = $(TEST_CFLAGS)
tests_test_nvc_info_LDADD = $(TEST_LDADD)
TESTS += tests/test_nvc_info
endif

bin_PROGRAMS += tools/nvenc tools/nvdec
tools_nvenc_SOURCES = tools/nvenc.c
tools_nvenc_LDADD = $(TOOL_LDADD)
tools_nvdec_SOURCES = tools/nvdec.c
tools_nvdec_LDADD = $(TOOL_LDADD)

# MD5 of decoded frames (nvdec --md5 / --verify, the conformance runner).
tools_libtoolcommon_la_SOURCES += tools/md5.c tools/md5.h
if HAVE_CHECK
check_PROGRAMS += tests/test_md5
tests_test_md5_SOURCES = tests/test_md5.c tools/md5.c tools/md5.h tests/common.h
tests_test_md5_CFLAGS = $(TEST_CFLAGS)
tests_test_md5_LDADD = $(TEST_LDADD)
TESTS += tests/test_md5
endif
