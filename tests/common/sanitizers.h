// Which sanitizer this test binary is built with, as macros a test can test:
// REFIR_TESTS_UNDER_ASAN is defined under AddressSanitizer (GCC defines
// __SANITIZE_ADDRESS__, Clang answers __has_feature). The test and the
// bridge it starts are built alike.
#ifndef REFIR_TESTS_COMMON_SANITIZERS_H_
#define REFIR_TESTS_COMMON_SANITIZERS_H_

#if defined(__SANITIZE_ADDRESS__)
#define REFIR_TESTS_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REFIR_TESTS_UNDER_ASAN 1
#endif
#endif

#endif  // REFIR_TESTS_COMMON_SANITIZERS_H_
