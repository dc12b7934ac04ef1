/* Keeps the test support library non-empty. */
typedef int netcore_test_support_empty;
