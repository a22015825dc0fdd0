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

if HAVE_CHECK
check_PROGRAMS += tests/test_inr
tests_test_inr_SOURCES = tests/test_inr.c tests/common.h
tests_test_inr_CFLAGS = $(TEST_CFLAGS)
tests_test_inr_LDADD = $(TEST_LDADD)
TESTS += tests/test_inr
endif
