# Neural-network engine: CPU reference + OpenBLAS, and the CUDA backend.
if HAVE_CUDA
libnvc_core_la_SOURCES += \
	nn/cuda/cuda.h \
	nn/cuda/device.cu
libnvc_core_la_LIBADD += $(CUDA_LIBS)
endif
