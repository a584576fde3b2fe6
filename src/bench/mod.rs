//! Benchmarks' shared code (HTTP engine).
