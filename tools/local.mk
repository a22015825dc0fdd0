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
dist_man_MANS += doc/man/nvenc.1 doc/man/nvdec.1

if HAVE_FFMPEG
if HAVE_CHECK
# nvenc/nvdec end to end through the FFmpeg paths (skipped without a codec).
check_PROGRAMS += tests/test_playback_tools
tests_test_playback_tools_SOURCES = tests/test_playback_tools.c tests/common.h
tests_test_playback_tools_CFLAGS = $(TEST_CFLAGS)
tests_test_playback_tools_LDADD = $(TEST_LDADD)
TESTS += tests/test_playback_tools
endif
endif

# frei0r source plugin: ffmpeg/ffplay -f lavfi -i frei0r_src=...:filter_name=nvc.
if HAVE_FREI0R
frei0rdir = $(libdir)/frei0r-1
frei0r_LTLIBRARIES = tools/frei0r/nvc.la
tools_frei0r_nvc_la_SOURCES = tools/frei0r/plugin.c tools/frei0r/source.c tools/frei0r/source.h
tools_frei0r_nvc_la_LDFLAGS = -module -avoid-version -shared -no-undefined
tools_frei0r_nvc_la_LIBADD = libnvc.la $(NVC_DEP_LIBS)
dist_man_MANS += doc/man/nvc-frei0r.7
if HAVE_CHECK
check_PROGRAMS += tests/test_frei0r
tests_test_frei0r_SOURCES = tests/test_frei0r.c tests/common.h tools/frei0r/source.c \
	tools/frei0r/source.h
tests_test_frei0r_CFLAGS = $(TEST_CFLAGS)
tests_test_frei0r_LDADD = $(TEST_LDADD)
TESTS += tests/test_frei0r
endif
endif

# nvc-rd: RD sweeps of nvc and classic codecs, BD-rates, tables, plots.
bin_PROGRAMS += tools/nvc-rd
tools_nvc_rd_SOURCES = tools/nvc-rd.c \
	tools/rd/rd.h tools/rd/codecs.c tools/rd/measure.c tools/rd/nvcodec.c \
	tools/rd/bd.h tools/rd/bd.c tools/rd/results.h tools/rd/results.c \
	tools/rd/report.h tools/rd/report.c tools/rd/plot.h tools/rd/plot.c tools/rd/font.c \
	tools/rd/sweep.h tools/rd/sweep.c
tools_nvc_rd_CFLAGS = $(AM_CFLAGS) $(PNG_CFLAGS)
tools_nvc_rd_LDADD = $(NVC_RD_LAVC) $(TOOL_LDADD)
dist_man_MANS += doc/man/nvc-rd.1
# The classic codecs through libavcodec: only this file sees FFmpeg's headers
# (a convenience library, as codec/matroska.c). Without FFmpeg, nvc-rd runs
# nvc codecs only.
NVC_RD_LAVC =
if HAVE_FFMPEG
noinst_LTLIBRARIES += tools/libnvcrd_lavc.la
tools_libnvcrd_lavc_la_SOURCES = tools/rd/lavc.c
tools_libnvcrd_lavc_la_CFLAGS = $(AM_CFLAGS) $(FFMPEG_CFLAGS)
NVC_RD_LAVC += tools/libnvcrd_lavc.la
endif

# A tiny sweep end to end (outputs, monotone figures, resuming, bad input).
TESTS += tests/nvc-rd.sh
EXTRA_DIST += tests/nvc-rd.sh tests/lsan-codecs.supp
# nvc codecs through nvc-rd (skipped while the build has none).
TESTS += tests/nvc-rd-nvc.sh
EXTRA_DIST += tests/nvc-rd-nvc.sh

if HAVE_CHECK
# BD-rate on curves with known answers (expected values: tests/rd_bd_reference.py).
check_PROGRAMS += tests/test_rd_bd
tests_test_rd_bd_SOURCES = tests/test_rd_bd.c tests/common.h tools/rd/bd.c tools/rd/bd.h
tests_test_rd_bd_CFLAGS = $(TEST_CFLAGS)
tests_test_rd_bd_LDADD = $(TEST_LDADD)
TESTS += tests/test_rd_bd
EXTRA_DIST += tests/rd_bd_reference.py
endif

# MD5 of decoded frames (nvdec --md5 / --verify, the conformance runner).
tools_libtoolcommon_la_SOURCES += tools/md5.c tools/md5.h
if HAVE_CHECK
check_PROGRAMS += tests/test_md5
tests_test_md5_SOURCES = tests/test_md5.c tools/md5.c tools/md5.h tests/common.h
tests_test_md5_CFLAGS = $(TEST_CFLAGS)
tests_test_md5_LDADD = $(TEST_LDADD)
TESTS += tests/test_md5
endif
