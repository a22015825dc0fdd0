# Neural-network engine: CPU reference + OpenBLAS, and the CUDA backend.
libnvc_core_la_SOURCES += \
	nn/nn.h \
	nn/ops_list.h \
	nn/cpu.h \
	nn/rng.h \
	nn/ssim.h \
	nn/optim.h \
	nn/checkpoint.h \
	nn/nn.c \
	nn/gemm.c \
	nn/conv.c \
	nn/elementwise.c \
	nn/resample.c \
	nn/norm.c \
	nn/ssim.c \
	nn/loss.c \
	nn/optim.c \
	nn/checkpoint.c
libnvc_core_la_CFLAGS += $(BLAS_CFLAGS)

if HAVE_CUDA
libnvc_core_la_SOURCES += \
	nn/cuda/cuda.h \
	nn/cuda/device.cu
libnvc_core_la_LIBADD += $(CUDA_LIBS)
endif

# Tests of the engine (tests/nn_cases.c: one case per op, shared with the CUDA comparison).
if HAVE_CHECK
check_PROGRAMS += tests/test_nn_ops
tests_test_nn_ops_SOURCES = tests/test_nn_ops.c tests/nn_cases.c tests/nn_cases.h tests/common.h
tests_test_nn_ops_CFLAGS = $(TEST_CFLAGS)
tests_test_nn_ops_LDADD = $(TEST_LDADD)
TESTS += tests/test_nn_ops
endif
