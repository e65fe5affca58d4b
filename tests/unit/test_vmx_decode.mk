test_vmx_decode_SRCS := hv/vmx/decode.c lib/printf.c lib/string.c
